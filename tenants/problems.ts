import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";

/** One thing wrong with the user's input, located as precisely as we can. */
export interface Problem {
    /** Path relative to the repository root, e.g. `tenants/prod/acme.yaml`. */
    file: string;
    /** 1-based line and column of the offending value; absent when the file as a whole is at fault. */
    line?: number;
    column?: number;
    /** Dotted field path, e.g. `network.cidr`; empty for whole-file problems. */
    field: string;
    /** What is wrong and what is allowed. */
    message: string;
}

/** `tenants/prod/acme.yaml:7:3 network.cidr: 10.0.0.0/16 overlaps the shared VPC 10.0.0.0/16` */
export function formatProblem(p: Problem): string {
    const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`;
    return p.field ? `${where} ${p.field}: ${p.message}` : `${where}: ${p.message}`;
}

/** Sorts problems by file, then position, so every run prints them in the same order. */
export function sortProblems(problems: Problem[]): Problem[] {
    return [...problems].sort(
        (a, b) =>
            a.file.localeCompare(b.file) ||
            (a.line ?? 0) - (b.line ?? 0) ||
            (a.column ?? 0) - (b.column ?? 0) ||
            a.field.localeCompare(b.field) ||
            a.message.localeCompare(b.message),
    );
}

/**
 * Thrown when the registry or the stack configuration is invalid. Carries every problem found, so the user fixes
 * them all in one round. Inside the Pulumi program it is turned into a `pulumi.RunError` (no stack trace).
 */
export class RegistryError extends Error {
    readonly problems: Problem[];
    /** What the user should know but is not wrong (files that were ignored). */
    readonly notices: Problem[];
    constructor(problems: Problem[], notices: Problem[] = []) {
        const sorted = sortProblems(problems);
        super(
            `${sorted.length} problem${sorted.length === 1 ? "" : "s"} in the tenant registry or stack configuration:\n` +
                sorted.map(formatProblem).join("\n"),
        );
        this.name = "RegistryError";
        this.problems = sorted;
        this.notices = notices;
    }
}

export type PathSegment = string | number;

/** Alias expansions a file may make: far more than a real one needs, far fewer than an exhaustion attack. */
const MAX_ALIAS_COUNT = 100;

/** A parsed YAML file that can tell where each value sits. */
export class SourceFile {
    readonly lineCounter = new LineCounter();
    readonly doc: Document.Parsed;
    readonly text: string;
    constructor(
        readonly file: string,
        text: string,
    ) {
        // A UTF-8 byte-order mark is not content: left in, it would shift every column of line 1.
        this.text = text.replace(/^\uFEFF/, "");
        this.doc = parseDocument(this.text, { lineCounter: this.lineCounter, prettyErrors: false, uniqueKeys: true });
    }

    /** Syntax errors (and duplicate keys) as problems, each at the line that is wrong; one per position. */
    syntaxProblems(): Problem[] {
        const multiline = new Set(this.doc.errors.filter((e) => e.code === "MULTILINE_IMPLICIT_KEY").map((e) => e.pos[0]));
        const out: Problem[] = [];
        const seen = new Set<string>();
        for (const e of this.doc.errors) {
            // A line indented under a key that already has a value: YAML reports it at that key, twice; the user's slip is the indented line.
            if (e.code === "BLOCK_AS_IMPLICIT_KEY" && multiline.has(e.pos[0])) continue;
            let pos = this.lineCounter.linePos(e.pos[0]);
            let message = firstLine(e.message);
            if (e.code === "MULTILINE_IMPLICIT_KEY") {
                const keyLine = pos.line;
                const key = /^\s*(?:-\s+)?([^:#\s][^:#]*?)\s*:/.exec(this.lineText(keyLine))?.[1];
                pos = this.lineCounter.linePos(e.pos[1]);
                message = key && pos.line > keyLine
                    ? `bad indentation: this line is indented under '${key}', which already has a value`
                    : "bad indentation: this line does not line up with the lines above";
            } else if (e.code === "BAD_INDENT") {
                if (/All mapping items must start at the same column/.test(message)) message = "bad indentation: all items of a mapping must start at the same column";
            }
            if (e.code === "BAD_INDENT" || e.code === "MULTILINE_IMPLICIT_KEY") {
                // YAML points at the start of the line; the item itself starts after the indentation.
                pos = { line: pos.line, col: this.lineText(pos.line).search(/\S|$/) + 1 };
            }
            const key = `${pos.line}:${pos.col}:${message}`;
            if (seen.has(key)) continue;
            seen.add(key);
            out.push({ file: this.file, line: pos.line, column: pos.col, field: "", message: `invalid YAML: ${message}` });
        }
        return out;
    }

    private lineText(line: number): string {
        return this.text.split("\n")[line - 1] ?? "";
    }

    /** The document's value; a problem instead when it expands aliases beyond the limit (a "billion laughs" file). */
    toJS(): { value: unknown } | { problem: Problem } {
        try {
            return { value: this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
        } catch (e) {
            if (!/alias/i.test((e as Error).message)) throw e;
            return { problem: { file: this.file, line: 1, column: 1, field: "", message: `invalid YAML: too many alias expansions (at most ${MAX_ALIAS_COUNT})` } };
        }
    }

    /**
     * Position of the value at `path`, or of its key when `key` is set. Falls back to the nearest existing ancestor,
     * then to line 1, so every problem has a position.
     */
    position(path: PathSegment[], key = false): { line: number; column: number } {
        let node: unknown = this.doc.contents;
        let best: Node | undefined = isNodeWithRange(node) ? node : undefined;
        for (let i = 0; i < path.length; i++) {
            const seg = path[i];
            if (isMap(node)) {
                const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
                if (!pair) break;
                const last = i === path.length - 1;
                if (last && key && isNodeWithRange(pair.key)) {
                    best = pair.key;
                    break;
                }
                node = pair.value;
                if (isNodeWithRange(node)) best = node;
                else if (isNodeWithRange(pair.key)) best = pair.key as Node;
            } else if (isSeq(node) && typeof seg === "number") {
                node = node.items[seg];
                if (!isNodeWithRange(node)) break;
                best = node;
            } else {
                break;
            }
        }
        if (!best?.range) return { line: 1, column: 1 };
        const pos = this.lineCounter.linePos(best.range[0]);
        return { line: pos.line, column: pos.col };
    }

    problem(path: PathSegment[], message: string, opts: { key?: boolean; field?: string } = {}): Problem {
        return { file: this.file, ...this.position(path, opts.key), field: opts.field ?? fieldPath(path), message };
    }
}

function isNodeWithRange(n: unknown): n is Node {
    return typeof n === "object" && n !== null && "range" in n && Array.isArray((n as Node).range);
}

/** `["network", "cidr"]` → `network.cidr`; `["customDomains", 1]` → `customDomains[1]`. */
export function fieldPath(path: readonly PathSegment[]): string {
    return path.reduce<string>((acc, seg) => (typeof seg === "number" ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

function firstLine(s: string): string {
    return s.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}

/** Closest candidate by edit distance, for "did you mean" hints; undefined when nothing is close. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDist = Infinity;
    for (const c of candidates) {
        const d = editDistance(word.toLowerCase(), c.toLowerCase());
        if (d < bestDist) {
            bestDist = d;
            best = c;
        }
    }
    return best !== undefined && bestDist <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
    const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diag = prev[0];
        prev[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const tmp = prev[j];
            prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
            diag = tmp;
        }
    }
    return prev[b.length];
}
