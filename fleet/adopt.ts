/**
 * `fleet adopt`: the commands that move a single-layout environment into its fleet stacks, after the offline proof
 * (tools/plan/adoption.ts) that the move replaces, creates and deletes nothing. `pulumi state move` takes each top-level
 * resource with its children; the platform stays in `<env>`.
 */
import { parseStackName } from "../model/fleet";
import type { AdoptionProof } from "../tools/plan/adoption";

export interface AdoptionCommand {
    /** Destination stack. */
    stack: string;
    /** `pulumi` arguments. */
    args: string[];
}

/**
 * `pulumi stack init` of each destination, then one `pulumi state move` per destination: tenants first, then cells.
 * A cell moves with its PostgreSQL provider (a child of the cell), which the shared tenants still in the source stack
 * use; `state move` copies only providers that stay behind, so moving a cell first would leave those tenants on a
 * provider the source no longer has, and the CLI refuses that state (its integrity check). Moving a tenant first
 * copies the cell's provider into the tenant's stack; the cell then moves with nobody left using its provider.
 */
export function adoptionCommands(proof: AdoptionProof): AdoptionCommand[] {
    const out: AdoptionCommand[] = [];
    const rank = (stack: string) => (parseStackName(stack, "fleet").role === "tenant" ? 0 : 1);
    const moves = proof.moves.map((m, i) => ({ m, i })).sort((a, b) => rank(a.m.stack) - rank(b.m.stack) || a.i - b.i).map(({ m }) => m);
    for (const move of moves) {
        out.push({ stack: move.stack, args: ["stack", "init", move.stack, "--no-select"] });
        out.push({ stack: move.stack, args: ["state", "move", "--source", proof.env, "--dest", move.stack, "--yes", ...move.urns] });
    }
    return out;
}

/** A command as a shell line, arguments single-quoted where they need it. */
export function shellLine(args: readonly string[]): string {
    return ["pulumi", ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

/** What `adopt` prints: the proof's verdict, then the commands (or why there are none). */
export function renderAdoption(proof: AdoptionProof, commands: readonly AdoptionCommand[]): string {
    const lines: string[] = [];
    const moved = proof.moves.reduce((n, m) => n + m.resourceCount, 0);
    lines.push(`Adopting ${proof.env} into a fleet: ${moved} resources move to ${proof.moves.length} stacks; the platform stays in ${proof.env}.`);
    const list = (title: string, changes: AdoptionProof["replaced"]) => {
        if (!changes.length) return;
        lines.push("", `${title} (${changes.length}):`);
        for (const c of changes) lines.push(`  ${c.stack}  ${c.type}  ${c.name}${c.paths.length ? `  [${c.paths.map((p) => p.path).join(", ")}]` : ""}`);
    };
    list("Would be REPLACED", proof.replaced);
    list("Would be CREATED", proof.created);
    list("Would be DELETED", proof.deleted);
    list("Updated in place (not blocking)", proof.updated);
    if (!proof.ok) {
        lines.push("", "Not adopting: the move must replace, create and delete nothing. Deploy the current code in the single layout first (`pulumi up -s " + proof.env + "`), then run adopt again.");
        return lines.join("\n") + "\n";
    }
    lines.push("", "Offline proof: nothing is replaced, created or deleted. Requires Pulumi CLI >= 3.150 (a provider change asks DiffConfig, pulumi/pulumi#18509).",
        `First deploy the current code in the single layout (pulumi up -s ${proof.env}: the cluster's aliases are applied), set tenancy:layout: fleet in Pulumi.${proof.env}.yaml, then run:`, "");
    for (const c of commands) lines.push(shellLine(c.args));
    lines.push("", `Then \`npm run fleet -- preview --env ${proof.env}\` must show no replacement before \`fleet up\`.`);
    return lines.join("\n") + "\n";
}
