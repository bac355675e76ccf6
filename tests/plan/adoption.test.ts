/**
 * The adopt proof (tools/plan/adoption.ts): single → fleet moves resources between stacks and must replace, create or
 * delete nothing. Synthetic plans for each rule; a real fixture environment for the whole path.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { adoptionProof, identityOf, planEnvironment } from "../../tools/plan/adoption";
import type { Plan, PlanResource, PlanStack } from "../../tools/plan/model";
import { fleetRepo } from "./helpers";

const OPTIONS: PlanResource["options"] = { protect: false, retainOnDelete: false, dependsOn: [], deleteBeforeReplace: false, replaceOnChanges: [], ignoreChanges: [], deletedWith: null };
const ROOT_TYPE = "pulumi:pulumi:Stack";

/** A resource of `stack`; `parent` is a `type::name` under the same stack, or the stack root when absent. */
function res(stack: string, chain: string, name: string, inputs: Record<string, unknown> = {}, extra: Partial<PlanResource> = {}): PlanResource {
    const custom = !chain.split("$").pop()!.startsWith("tenancy:");
    return {
        urn: `urn:pulumi:${stack}::tenancy::${chain}::${name}`, stack, type: chain.split("$").pop()!, name, parent: `urn:pulumi:${stack}::tenancy::${ROOT_TYPE}::tenancy-${stack}`,
        custom, provider: null, tenant: null, inputs, options: OPTIONS, ...extra,
    };
}
const root = (stack: string) => ({ ...res(stack, ROOT_TYPE, `tenancy-${stack}`), parent: null, custom: false });
const child = (parent: PlanResource, type: string, name: string, inputs: Record<string, unknown> = {}, extra: Partial<PlanResource> = {}) =>
    res(parent.stack, `${parent.type}$${type}`, name, inputs, { parent: parent.urn, ...extra });

function plan(resources: PlanResource[]): Plan {
    const names = [...new Set(resources.map((r) => r.stack))];
    const stacks: PlanStack[] = names.map((name) => ({ name, role: name === "prod" ? "platform" : "tenant", tenants: [], resourceCount: resources.filter((r) => r.stack === name).length }));
    return { planVersion: 1, project: "tenancy", stack: "prod", region: "us-east-1", tenants: [], stacks, resources };
}

/** Single: platform VPC, tenant acme (a component with a key). Fleet: the same with acme in its own stack on an explicit provider. */
function layouts(fleetKey: (parent: PlanResource, provider: string) => PlanResource[] = (p, provider) => [child(p, "aws:kms/key:Key", "acme-key", { description: "acme" }, { provider })], region = "us-east-1") {
    const single = (() => {
        const acme = res("prod", "tenancy:tenant:Tenant", "acme");
        return plan([root("prod"), res("prod", "aws:ec2/vpc:Vpc", "shared-vpc", { cidrBlock: "10.0.0.0/16" }), acme, child(acme, "aws:kms/key:Key", "acme-key", { description: "acme" })]);
    })();
    const fleet = (() => {
        const acme = res("prod.acme", "tenancy:tenant:Tenant", "acme");
        const provider = res("prod.acme", "pulumi:providers:aws", "aws", { region, skipCredentialsValidation: "false", skipRegionValidation: "true" });
        const ref = res("prod.acme", "pulumi:pulumi:StackReference", "organization/tenancy/prod", { name: "organization/tenancy/prod" });
        return plan([root("prod"), res("prod", "aws:ec2/vpc:Vpc", "shared-vpc", { cidrBlock: "10.0.0.0/16" }), root("prod.acme"), provider, ref, acme, ...fleetKey(acme, `${provider.urn}::id`)]);
    })();
    return { single, fleet };
}

describe("adoptionProof on synthetic plans", () => {
    it("moves each top-level resource with its children to the stack that declares it; default → explicit provider in the same region is an update", () => {
        const { single, fleet } = layouts();
        const proof = adoptionProof(single, fleet);
        expect(proof.moves).toEqual([{ stack: "prod.acme", urns: ["urn:pulumi:prod::tenancy::tenancy:tenant:Tenant::acme"], resourceCount: 2 }]);
        expect([proof.replaced, proof.created, proof.deleted]).toEqual([[], [], []]);
        expect(proof.updated.map((u) => [u.name, u.paths.map((p) => [p.path, p.effect])])).toEqual([["acme-key", [["(provider)", undefined]]]]);
        expect(proof.infrastructureOfTheFleet).toContain("urn:pulumi:<stack>::tenancy::pulumi:providers:aws::aws");
        expect(proof.ok).toBe(true);
    });

    it("an explicit provider in another region replaces", () => {
        const { single, fleet } = layouts(undefined, "eu-west-1");
        const proof = adoptionProof(single, fleet);
        expect(proof.replaced.map((r) => [r.name, r.stack])).toEqual([["acme-key", "prod.acme"]]);
        expect(proof.ok).toBe(false);
    });

    it("an input the provider replaces on is a replacement; another input an update", () => {
        const replaced = adoptionProof(layouts().single, layouts((p, provider) => [child(p, "aws:kms/key:Key", "acme-key", { description: "acme", region: "eu-west-1" }, { provider })]).fleet);
        expect(replaced.replaced.map((r) => r.paths.map((p) => p.path))).toEqual([["region", "(provider)"]]);
        const updated = adoptionProof(layouts().single, layouts((p, provider) => [child(p, "aws:kms/key:Key", "acme-key", { description: "other" }, { provider })]).fleet);
        expect(updated.ok).toBe(true);
        expect(updated.updated.map((r) => r.paths.map((p) => p.path))).toEqual([["description", "(provider)"]]);
    });

    it("a resource only the single stack declares is deleted, one only the fleet declares is created; protection differences show", () => {
        const { single } = layouts();
        const { fleet } = layouts((p, provider) => [child(p, "aws:s3/bucket:Bucket", "acme-assets", {}, { provider })]);
        const proof = adoptionProof(single, fleet);
        expect(proof.deleted.map((d) => [d.identity, d.stack])).toEqual([["urn:pulumi:<stack>::tenancy::tenancy:tenant:Tenant$aws:kms/key:Key::acme-key", "prod"]]);
        expect(proof.created.map((d) => [d.name, d.stack])).toEqual([["acme-assets", "prod.acme"]]);
        expect(proof.ok).toBe(false);
        const unprotected = adoptionProof(single, layouts((p, provider) => [child(p, "aws:kms/key:Key", "acme-key", { description: "acme" }, { provider, options: { ...OPTIONS, protect: true } })]).fleet);
        expect(unprotected.updated[0]!.paths.map((p) => p.path)).toEqual(["options.protect", "(provider)"]);
    });

    it("refuses plans of different environments", () => {
        const { single, fleet } = layouts();
        expect(() => adoptionProof(single, { ...fleet, stack: "dev" })).toThrow("cannot compare plans of different environments: tenancy/prod and tenancy/dev");
    });

    it("identityOf writes the stack part as <stack>", () => {
        expect(identityOf("urn:pulumi:prod.acme::tenancy::tenancy:tenant:Tenant::acme")).toBe("urn:pulumi:<stack>::tenancy::tenancy:tenant:Tenant::acme");
    });
});

describe("adoption of a real fixture environment", () => {
    let single: Plan;
    let fleet: Plan;
    beforeAll(async () => {
        // The environment's file says fleet; the single plan is forced, as `fleet adopt` plans it.
        const root = fleetRepo("fleet");
        single = await planEnvironment({ root, env: "test", layout: "single" });
        fleet = await planEnvironment({ root, env: "test" });
    });

    it("replaces, creates and deletes nothing, and moves each cell and tenant to its own stack", () => {
        const proof = adoptionProof(single, fleet);
        expect({ replaced: proof.replaced, created: proof.created, deleted: proof.deleted }).toEqual({ replaced: [], created: [], deleted: [] });
        expect(proof.ok).toBe(true);
        expect(proof.moves.map((m) => [m.stack, m.urns])).toEqual([
            // Each cell's schema dump job goes with its cell.
            ["test.cell-b", ["urn:pulumi:test::tenancy::tenancy:backup:SchemaDumpJob::cell-b-dumps", "urn:pulumi:test::tenancy::tenancy:cell:DatabaseCell::cell-b"]],
            ["test.cell-main", ["urn:pulumi:test::tenancy::tenancy:backup:SchemaDumpJob::cell-main-dumps", "urn:pulumi:test::tenancy::tenancy:cell:DatabaseCell::cell-main"]],
            ...["alpha", "bravo", "charlie", "delta"].map((s) => [`test.${s}`, [`urn:pulumi:test::tenancy::tenancy:tenant:Tenant::${s}`]]),
        ]);
        // Everything that moves plus what stays in the platform stack is the whole single stack.
        const moved = proof.moves.reduce((n, m) => n + m.resourceCount, 0);
        const stays = fleet.resources.filter((r) => r.stack === "test" && r.type !== "pulumi:pulumi:Stack").length;
        expect(moved + stays + 1).toBe(single.resources.length);
    });
});
