/**
 * The child process tests/move/kill.test.ts SIGKILLs: `sync` runs move/sync.ts, `apply` runs move/apply.ts in a loop.
 * Progress goes to stdout as JSON lines, so the parent can kill at a known point.
 * Usage: node --import tsx tests/move/killChild.ts <sync|apply> <tenant> <source-url> <target-url>
 */
import { applyPending } from "../../move/apply";
import { sync } from "../../move/sync";
import { moveContext } from "./fixture";

async function main(): Promise<void> {
    const [mode, tenant, sourceUrl, targetUrl] = process.argv.slice(2);
    const ctx = moveContext(sourceUrl!, targetUrl!, tenant!);
    ctx.progress = (e) => process.stdout.write(`${JSON.stringify(e)}\n`);
    if (mode === "sync") {
        await sync(ctx, { untilLagBytes: 1 << 20 });
        process.stdout.write(`${JSON.stringify({ kind: "done" })}\n`);
        return;
    }
    for (;;) {
        process.stdout.write(`${JSON.stringify({ kind: "applying" })}\n`);
        const r = await applyPending(ctx);
        process.stdout.write(`${JSON.stringify({ kind: "applied", ...r })}\n`);
    }
}

main().catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
});
