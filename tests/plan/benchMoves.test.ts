/**
 * `npm run bench -- --moves` must be able to run: a 2 MiB tenant goes through the same harness as the 1 GiB one (two
 * PostgreSQL 15 servers, the app writing, every phase, the floor copy), and its report section replaces only itself.
 * No timings are asserted.
 */
import { describe, expect, it } from "vitest";
import { benchMove, moveSection, withMoveSection } from "../../tools/benchMoves";

describe("bench: moving a tenant", () => {
    it("runs end to end on a small tenant: verified, nothing lost, a pause and a floor measured", async () => {
        const lines: string[] = [];
        const b = await benchMove(2, (l) => lines.push(l));
        expect(b.verified).toBe(true);
        expect(b.lost).toBe(0);
        expect(b.rows).toBeGreaterThan(1000);
        expect(b.writePauseMs).toBeGreaterThan(0);
        expect(b.floorMs).toBeGreaterThan(0);
        expect(b.copiedBytes).toBeGreaterThan(0);
        expect(lines.join("\n")).toMatch(/write pause \d+ ms, verified true/);
        const section = moveSection(b);
        expect(section).toMatch(/^## Moving a tenant\n/);
        expect(section).toContain(`| ${b.writePauseMs} | 5000 |`);
    }, 120_000);

    it("the report keeps the plan bench's sections and replaces only its own", () => {
        const plan = "# Offline plan benchmark\n\n## Whole environment\n\nrows\n";
        const once = withMoveSection(plan, "## Moving a tenant\n\nfirst\n");
        expect(once).toBe("# Offline plan benchmark\n\n## Whole environment\n\nrows\n\n## Moving a tenant\n\nfirst\n");
        const twice = withMoveSection(`${once}\n## Later\n\nkept\n`, "## Moving a tenant\n\nsecond\n");
        expect(twice).toBe("# Offline plan benchmark\n\n## Whole environment\n\nrows\n\n## Moving a tenant\n\nsecond\n## Later\n\nkept\n");
    });
});
