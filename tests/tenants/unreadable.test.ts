import * as fs from "fs";
import * as path from "path";
import { afterEach, expect, it, vi } from "vitest";
import { formatProblem, RegistryError } from "../../tenants/problems";
import { loadRegistry } from "../../tenants/registry";
import { makeRepo, sharedTenant } from "./fixtures";

/** Paths whose reads fail as an unreadable file's would: chmod cannot show it when the tests run as root. */
const locked = vi.hoisted(() => new Set<string>());

vi.mock("fs", async (importOriginal) => {
    const real = await importOriginal<typeof import("fs")>();
    const readFileSync = ((file: Parameters<typeof real.readFileSync>[0], ...rest: unknown[]) => {
        if (typeof file === "string" && locked.has(file)) {
            throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: "EACCES" });
        }
        return (real.readFileSync as (...a: unknown[]) => unknown)(file, ...rest);
    }) as typeof real.readFileSync;
    return { ...real, default: { ...real, readFileSync }, readFileSync };
});

afterEach(() => locked.clear());

it("an unreadable tenant file is a located problem, and the other files are still checked", () => {
    const root = makeRepo({ "acme.yaml": sharedTenant("acme"), "beta.yaml": "slug: beta\n" });
    try {
        locked.add(path.join(root, "tenants", "test", "acme.yaml"));
        let out: string[] = [];
        try {
            loadRegistry({ root, stack: "test" });
        } catch (e) {
            if (!(e instanceof RegistryError)) throw e;
            out = e.problems.map(formatProblem);
        }
        expect(out).toEqual([
            "tenants/test/acme.yaml: cannot be read (EACCES: check its permissions)",
            "tenants/test/beta.yaml:1:1 displayName: is required",
        ]);
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
});
