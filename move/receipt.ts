/**
 * The receipt of a move (`tenants/<env>/.moves/<slug>.json`): what the data-loss guard asks for before the old placement
 * is retired. Stable key order (a re-written receipt diffs only where facts changed), no password (servers as
 * `host:port/db`), written atomically (temp file + rename: a reader never sees half a receipt).
 */
import * as fs from "fs";
import * as path from "path";
import type { Endpoint, Receipt, ReceiptSequence, ReceiptSide, ReceiptTable } from "./types";

/** One side of the receipt: the server's label and, when known (env mode), the placement's fields. */
export function receiptSide(ep: Endpoint): ReceiptSide {
    const side: ReceiptSide = { server: ep.label };
    const p = ep.placement;
    if (p?.tier !== undefined) side.tier = p.tier;
    if (p?.cell !== undefined) side.cell = p.cell;
    if (p?.region !== undefined) side.region = p.region;
    if (p?.label !== undefined) side.label = p.label;
    return side;
}

/** The receipt with its keys in the documented order, whatever order the parts were built in. */
export function normalizeReceipt(r: Receipt): Receipt {
    const side = (s: ReceiptSide): ReceiptSide => {
        const out: ReceiptSide = { server: s.server };
        if (s.tier !== undefined) out.tier = s.tier;
        if (s.cell !== undefined) out.cell = s.cell;
        if (s.region !== undefined) out.region = s.region;
        if (s.label !== undefined) out.label = s.label;
        return out;
    };
    const table = (t: ReceiptTable): ReceiptTable => ({ name: t.name, sourceRows: t.sourceRows, targetRows: t.targetRows, sourceHash: t.sourceHash, targetHash: t.targetHash });
    const sequence = (s: ReceiptSequence): ReceiptSequence => ({ name: s.name, source: s.source, target: s.target });
    return {
        tenant: r.tenant,
        schema: r.schema,
        from: side(r.from),
        to: side(r.to),
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        writePauseMs: r.writePauseMs,
        tables: [...r.tables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(table),
        sequences: [...r.sequences].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(sequence),
        verified: r.verified,
    };
}

/** A credential in a URL (`user:secret@`) or a password field: a receipt is committed to git and must hold neither. */
const SECRET = /:\/\/[^/\s"@]*:[^/\s"@]*@|"password"/i;

/** The receipt as committed: 2-space JSON, documented key order, trailing newline. */
export function renderReceipt(r: Receipt): string {
    const text = `${JSON.stringify(normalizeReceipt(r), null, 2)}\n`;
    if (SECRET.test(text)) throw new Error("receipt: refusing to write a receipt that contains a credential");
    return text;
}

/** Writes the receipt next to its final name, then renames it into place (atomic on one file system). */
export function writeReceipt(file: string, r: Receipt): void {
    const text = renderReceipt(r);
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const temp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
    try {
        fs.writeFileSync(temp, text, { mode: 0o644 });
        fs.renameSync(temp, file);
    } catch (err) {
        fs.rmSync(temp, { force: true });
        throw err;
    }
}
