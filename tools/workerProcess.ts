/** Child processes that run this repository's TypeScript: the plan's and the fleet's workers. */

/** The loader flags of this process (tsx's `--require`/`--import`), so a forked worker loads TypeScript the same way. */
export function loaderArgs(): string[] {
    const out: string[] = [];
    const argv = process.execArgv;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]!;
        if ((a === "--require" || a === "--import" || a === "-r") && argv[i + 1] !== undefined) out.push(a, argv[++i]!);
        else if (a.startsWith("--require=") || a.startsWith("--import=")) out.push(a);
    }
    return out;
}
