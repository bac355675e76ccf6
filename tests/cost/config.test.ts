import { describe, expect, it } from "vitest";
import { COST_DEFAULTS } from "../../stacks/costConfig";
import { validateConfig as validate } from "../tenants/fixtures";

/** Validates a `Pulumi.test.yaml` built from the fixture config with `overrides`, located in its own text. */

describe("tenancy:cost: the estimate's usage assumptions", () => {
    it("a stack without tenancy:cost validates unchanged and gets every default", () => {
        const { config, problems } = validate({});
        expect(problems).toEqual([]);
        expect(config!.cost).toEqual(COST_DEFAULTS);
    });

    it("a partial override keeps the other defaults", () => {
        const { config, problems } = validate({ "tenancy:cost": { nat: { gbPerGatewayMonth: 500 }, aurora: { acuUtilization: 0.5 } } });
        expect(problems).toEqual([]);
        expect(config!.cost.nat.gbPerGatewayMonth).toBe(500);
        expect(config!.cost.aurora.acuUtilization).toBe(0.5);
        expect(config!.cost.aurora.storageGb).toBe(COST_DEFAULTS.aurora.storageGb);
        expect(config!.cost.hoursPerMonth).toBe(730);
    });

    it("every wrong value is reported at once, at its field in the stack file, with what is allowed", () => {
        const { config, problems } = validate({
            "tenancy:cost": { hoursPerMonth: 800, aurora: { acuUtilization: 1.5 }, nat: { gbPerGatewayMonth: -1 }, apportion: { hybridWeight: 0 }, surprise: 1 },
        });
        expect(config).toBeUndefined();
        const got = problems.map((p) => `${p.field}: ${p.message}`);
        expect(got).toEqual(expect.arrayContaining([
            expect.stringMatching(/^tenancy:cost\.hoursPerMonth: .*744/),
            expect.stringMatching(/^tenancy:cost\.aurora\.acuUtilization: .*0 to 1/),
            expect.stringMatching(/^tenancy:cost\.nat\.gbPerGatewayMonth: /),
            expect.stringMatching(/^tenancy:cost\.apportion\.hybridWeight: /),
            expect.stringMatching(/surprise/),
        ]));
        expect(got).toHaveLength(5);
        expect(problems.every((p) => p.line !== undefined && p.line > 1)).toBe(true);
    });
});
