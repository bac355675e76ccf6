/**
 * The estimate in the offline plan: JSON (`monthlyCost` per tenant, `cost` of the platform), text and markdown, in both
 * layouts of a small environment of the tests' own (one shared tenant per cell, one hybrid, one dedicated elsewhere).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { committedPrices } from "../../cost/prices";
import { planEnvironment } from "../../tools/plan/environment";
import { parsePlan, planToJson, type Plan } from "../../tools/plan/model";
import { renderMarkdown } from "../../tools/plan/renderMarkdown";
import { renderText } from "../../tools/plan/renderText";
import { FLEET_TENANTS, fleetRepo } from "../plan/helpers";

const COST = { "tenancy:cost": { nat: { gbPerGatewayMonth: 250 } } };
// Cell b has no tenant here: its cluster's cost joins the platform's pool (kept small: a fleet plan records a stack per cell and tenant).
const { "bravo.yaml": _bravo, ...TENANTS } = FLEET_TENANTS;
let single: Plan;
let fleet: Plan;
let fleetRoot: string;
beforeAll(async () => {
    single = await planEnvironment({ root: fleetRepo("single", TENANTS, COST), env: "test" });
    fleetRoot = fleetRepo("fleet", TENANTS, COST);
    fleet = await planEnvironment({ root: fleetRoot, env: "test" });
});

describe("monthly cost in the plan JSON", () => {
    it("every tenant has a monthlyCost; the plan states the prices' date, the stack's assumptions and the platform's cost", () => {
        for (const plan of [single, fleet]) {
            expect(plan.tenants.map((t) => t.slug)).toEqual(["alpha", "charlie", "delta"]);
            for (const t of plan.tenants) expect(t.monthlyCost!.total, t.slug).toBeGreaterThan(0);
            expect(plan.cost!.pricesAsOf).toBe(committedPrices().asOf);
            expect(plan.cost!.currency).toBe("USD");
            expect(plan.cost!.assumptions.nat.gbPerGatewayMonth).toBe(250);
            expect(plan.cost!.platform.total).toBeGreaterThan(0);
        }
    });

    it("the same tenants cost the same in both layouts: a fleet's explicit providers do not move a resource's region", () => {
        const costs = (p: Plan) => Object.fromEntries(p.tenants.map((t) => [t.slug, t.monthlyCost]));
        expect(costs(fleet)).toEqual(costs(single));
        expect(fleet.cost!.platform).toEqual(single.cost!.platform);
    });

    it("the dedicated tenant in eu-west-1 is priced at eu-west-1's prices, with the stack's NAT traffic assumption", () => {
        const P = committedPrices().regions["eu-west-1"]!;
        const delta = fleet.tenants.find((t) => t.slug === "delta")!;
        const nats = fleet.resources.filter((r) => r.tenant === "delta" && r.type === "aws:ec2/natGateway:NatGateway").length;
        expect(nats).toBeGreaterThan(0);
        expect(delta.monthlyCost!.byType["aws:ec2/natGateway:NatGateway"]).toBe(Math.round(nats * (730 * P.natHour + 250 * P.natGb) * 100) / 100);
        expect(delta.monthlyCost!.apportioned).toBe(0);
    });

    it("shared and hybrid tenants carry the platform: the shares add up to its total, to the cent", () => {
        for (const plan of [single, fleet]) {
            const shares = plan.tenants.reduce((n, t) => n + Math.round(t.monthlyCost!.apportioned! * 100), 0);
            expect(shares + Math.round(plan.cost!.platform.unapportioned * 100)).toBe(Math.round(plan.cost!.platform.total * 100));
            for (const slug of ["alpha", "charlie"]) expect(plan.tenants.find((t) => t.slug === slug)!.monthlyCost!.apportioned).toBeGreaterThan(0);
            // Cell b's cluster has nobody to carry it: it joins the platform's pool, which alpha and charlie carry.
            expect(plan.cost!.platform.pools!.map((p) => [p.pool, p.tenants])).toEqual([["cell main", ["alpha"]], ["platform", ["alpha", "charlie"]]]);
            // The environment's total is every tenant's own cost plus the platform's.
            const own = plan.tenants.reduce((n, t) => n + Math.round((t.monthlyCost!.total - t.monthlyCost!.apportioned!) * 100), 0);
            expect(Math.round(plan.cost!.total * 100)).toBe(own + Math.round(plan.cost!.platform.total * 100));
        }
    });

    it("survives the JSON round trip that plan:diff reads", () => {
        const back = parsePlan(planToJson(fleet), "plan.json");
        expect(back.tenants.find((t) => t.slug === "delta")!.monthlyCost).toEqual(fleet.tenants.find((t) => t.slug === "delta")!.monthlyCost);
        expect(back.cost).toEqual(JSON.parse(JSON.stringify(fleet.cost)));
    });
});

describe("a plan of one tenant's stack of a fleet", () => {
    it("holds no platform: it says so instead of a share of $0.00", async () => {
        const one = await planEnvironment({ root: fleetRoot, env: "test.alpha" });
        expect(one.cost!.platformPlanned).toBe(false);
        expect(fleet.cost!.platformPlanned).toBe(true);
        const text = renderText(one);
        expect(text).toContain("platform share: not in this plan");
        expect(text).toContain("Platform monthly cost: not in this plan (plan the environment, e.g. --stack test, for the platform and every tenant's share)");
        expect(text).not.toContain("platform share $0.00");
    });
});

describe("monthly cost in text and markdown plans", () => {
    const money = (n: number) => `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

    it("text: a line per tenant with its total, own cost and share, and the platform's cost with where it went", () => {
        for (const plan of [single, fleet]) {
            const text = renderText(plan);
            for (const t of plan.tenants) expect(text).toContain(`  monthly cost: ${money(t.monthlyCost!.total)}`);
            const delta = plan.tenants.find((t) => t.slug === "delta")!.monthlyCost!;
            // Its types dearest first: the top one is named with its amount.
            const [topType, topCost] = Object.entries(delta.byType).sort(([, a], [, b]) => b - a)[0]!;
            expect(text).toContain(`monthly cost: ${money(delta.total)} (own ${money(delta.total)}: ${topType.split(":")[1]} ${money(topCost)}`);
            const alpha = plan.tenants.find((t) => t.slug === "alpha")!.monthlyCost!;
            expect(text).toContain(`platform share ${money(alpha.apportioned!)} (weight ${alpha.weight})`);
            expect(text).toContain(`Platform monthly cost: ${money(plan.cost!.platform.total)}`);
            expect(text).toContain(`Monthly cost (estimate): ${money(plan.cost!.total)}`);
            expect(text).toContain(`prices of ${committedPrices().asOf}`);
        }
    });

    it("markdown: a monthly cost column per tenant and the platform's cost under the table", () => {
        for (const plan of [single, fleet]) {
            const md = renderMarkdown(plan);
            expect(md).toContain("| Monthly cost |");
            for (const t of plan.tenants) expect(md).toMatch(new RegExp(`^\\| \`${t.slug}\` \\|.*\\| ${money(t.monthlyCost!.total).replace("$", "\\$")} \\|$`, "m"));
            expect(md).toContain(`Estimated monthly cost: **${money(plan.cost!.total)}**`);
        }
    });
});
