import { describe, expect, it } from "vitest";
import { FIRST_TENANT_PRIORITY, LAST_PRIORITY, listenerRulePriorities } from "../../model/listenerPriorities";

const slugs = (n: number) => Array.from({ length: n }, (_, i) => `tenant-${i}`);

describe("listenerRulePriorities", () => {
    it("a slug's priority is its hash's, whatever other tenants exist: a tenant stack alone gets the single stack's number", () => {
        const all = listenerRulePriorities(["acme", "globex", "initech", "wayne"]);
        for (const slug of ["acme", "globex", "initech", "wayne"]) expect(listenerRulePriorities([slug]).get(slug), slug).toBe(all.get(slug));
        // Pinned: the values the stacks had before priorities moved here (FNV-1a of the slug, mod 49000, plus 1000).
        expect(all.get("acme")).toBe(2615);
        expect([...all.values()].every((p) => p >= FIRST_TENANT_PRIORITY && p <= LAST_PRIORITY)).toBe(true);
    });

    it("no two tenants of an environment share a priority, and the input order does not matter", () => {
        const many = slugs(5000);
        const a = listenerRulePriorities(many);
        expect(new Set(a.values()).size).toBe(5000);
        const b = listenerRulePriorities([...many].reverse());
        expect([...b].sort()).toEqual([...a].sort());
    });

    it("a collision is resolved by probing upwards in slug order: only the later slug moves", () => {
        const base = listenerRulePriorities(slugs(5000));
        const byPriority = new Map<number, string[]>();
        for (const s of slugs(5000)) {
            const alone = listenerRulePriorities([s]).get(s)!;
            byPriority.set(alone, [...(byPriority.get(alone) ?? []), s]);
        }
        const [first, second] = [...byPriority.values()].find((group) => group.length > 1)!.sort((x, y) => x.localeCompare(y));
        expect(base.get(first!)).toBe(listenerRulePriorities([first!]).get(first!));
        expect(base.get(second!)).not.toBe(listenerRulePriorities([second!]).get(second!));
    });
});
