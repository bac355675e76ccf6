/** The starvation guard before any SQL: shared tenants' runtime connection limits must fit the shared cluster. */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { OWNER_CONNECTION_LIMIT, sharedConnectionCapacity } from "../../tenants/capacity";
import { RegistryError } from "../../tenants/problems";
import { loadRegistry } from "../../tenants/registry";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";

const DATABASE = { minCapacity: 0.5, maxCapacity: 1 };
const CONFIG = baseStackConfig({ "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: DATABASE } });
/** What tenants may use on that cluster: max_connections less the default 50 reserved for the platform. */
const { available } = sharedConnectionCapacity({ ...DATABASE, reservedConnections: 50 });

/** Loads tenants with these connection limits (and statuses); returns the registry or the error. */
function load(tenants: { limit: number; status?: string }[]): unknown {
    const files = Object.fromEntries(
        tenants.map((t, i) => [`tenant-${i}.yaml`, sharedTenant(`tenant-${i}`, `database:\n  connectionLimit: ${t.limit}\n${t.status ? `status: ${t.status}\n` : ""}`)]),
    );
    const root = makeRepo(files, CONFIG);
    try {
        return loadRegistry({ root, stack: "test" });
    } catch (e) {
        return e;
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

describe("shared cluster connection capacity", () => {
    it("the registry refuses shared tenants whose connection limits (runtime plus owner) together exceed what the cluster accepts, and counts no offboarded tenant", () => {
        expect(available).toBeGreaterThan(0);
        // Each tenant may hold its runtime limit plus its owner role's connections.
        const budget = available - 2 * OWNER_CONNECTION_LIMIT;
        const half = Math.floor(budget / 2);
        const exactly = [{ limit: half }, { limit: budget - half }];
        expect(load(exactly)).not.toBeInstanceOf(Error);

        const oneOver = [{ limit: half }, { limit: budget - half + 1 }];
        const error = load(oneOver);
        expect(error).toBeInstanceOf(RegistryError);
        expect((error as RegistryError).problems).toEqual([
            expect.objectContaining({
                file: "tenants/test",
                field: "database.connectionLimit",
                message: expect.stringContaining(`shared tenants on cell main may open ${available + 1} connections (runtime limits plus ${OWNER_CONNECTION_LIMIT} per owner role) but its cluster accepts ${available} `),
            }),
        ]);

        // An offboarded tenant's roles cannot log in, so its limit is not counted; a suspended one may come back, so it is.
        expect(load([...exactly, { limit: 500, status: "offboarded" }])).not.toBeInstanceOf(Error);
        expect(load([...exactly, { limit: 1, status: "suspended" }])).toBeInstanceOf(RegistryError);
    });
});
