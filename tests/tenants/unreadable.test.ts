import * as fs from "fs";
import * as path from "path";
import { afterEach, beforeAll, expect, it, vi } from "vitest";
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

// Test files share their worker's modules (vitest.config.ts: isolate false), so the registry may already be loaded with
// the real fs: load it afresh, after the mock.
let registry: typeof import("../../tenants/registry");
let problems: typeof import("../../tenants/problems");
beforeAll(async () => {
    vi.resetModules();
    registry = await import("../../tenants/registry");
    problems = await import("../../tenants/problems");
});

it("an unreadable tenant file is a located problem, and the other files are still checked", () => {
    const root = makeRepo({ "acme.yaml": sharedTenant("acme"), "beta.yaml": "slug: beta\n" });
    try {
        locked.add(path.join(root, "tenants", "test", "acme.yaml"));
        let out: string[] = [];
        try {
            registry.loadRegistry({ root, stack: "test" });
        } catch (e) {
            if (!(e instanceof problems.RegistryError)) throw e;
            out = e.problems.map(problems.formatProblem);
        }
        expect(out).toEqual([
            "tenants/test/acme.yaml: cannot be read (EACCES: check its permissions)",
            "tenants/test/beta.yaml:1:1 displayName: is required",
        ]);
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
});
