import { describe, expect, it } from "vitest";
import { serverlessMaxConnections, sharedConnectionCapacity } from "../../tenants/capacity";

describe("shared cluster connection capacity", () => {
    it.each([
        [1, 1, 189],
        [1, 4, 823],
        [1, 8, 1668],
        [1, 16, 3360],
        [1, 32, 5000],
        [2, 64, 5000],
    ])("Serverless v2 %s-%s ACU follows the documented max_connections (%s)", (min, max, expected) => {
        expect(serverlessMaxConnections(min, max)).toBe(expected);
    });

    it("a minimum of 0.5 ACU caps max_connections at 2000", () => {
        expect(serverlessMaxConnections(0.5, 16)).toBe(2000);
        expect(serverlessMaxConnections(0, 32)).toBe(2000);
        expect(serverlessMaxConnections(0.5, 4)).toBe(823);
    });

    it("a provisioned class uses its memory; the platform reserve is subtracted", () => {
        expect(sharedConnectionCapacity({ instanceClass: "db.r6g.large", reservedConnections: 100 })).toEqual({
            maxConnections: 1622, reserved: 100, available: 1522, basis: "db.r6g.large (16 GiB)",
        });
        expect(sharedConnectionCapacity({ instanceClass: "db.r6g.16xlarge", reservedConnections: 0 }).basis).toMatch(/unknown class, assumed 4 GiB/);
    });
});
