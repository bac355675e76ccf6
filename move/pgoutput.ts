/**
 * A decoder of PostgreSQL's `pgoutput` logical replication messages, protocol version 1, as
 * `pg_logical_slot_peek_binary_changes(slot, NULL, n, 'proto_version', '1', 'publication_names', pub)` returns them
 * (one message per row). Reference: "Logical Replication Message Formats" in the PostgreSQL manual.
 *
 * Column values stay exactly as the server sent them: the text output of their type ('t'), SQL NULL ('n') and the
 * unchanged-TOAST marker ('u', a value an UPDATE did not touch and did not send), kept distinct from NULL because
 * writing it would overwrite the row's real value. Hand-written rather than pg-logical-replication's parser, which
 * converts values to JavaScript types (numbers, Dates) and so loses numeric precision and timestamp microseconds.
 */

/** A column an UPDATE left unchanged whose TOASTed value was not sent: never write it. */
export const UNCHANGED_TOAST: unique symbol = Symbol("unchanged-toast");

/** One column of a tuple: its text form, SQL NULL, or {@link UNCHANGED_TOAST}. */
export type TupleValue = string | null | typeof UNCHANGED_TOAST;

export interface RelationColumn {
    name: string;
    typeOid: number;
    typeMod: number;
    /** Part of the relation's replica identity (its key). */
    isKey: boolean;
}

export type PgOutputMessage =
    | { tag: "begin"; finalLsn: string; commitTime: bigint; xid: number }
    | { tag: "commit"; flags: number; commitLsn: string; endLsn: string; commitTime: bigint }
    | { tag: "origin"; originLsn: string; name: string }
    | { tag: "relation"; relationId: number; schema: string; name: string; replicaIdentity: string; columns: RelationColumn[] }
    | { tag: "type"; typeOid: number; schema: string; name: string }
    | { tag: "insert"; relationId: number; newTuple: TupleValue[] }
    /** `key`: the old key columns (sent when the key changed); `old`: the whole old row (REPLICA IDENTITY FULL). */
    | { tag: "update"; relationId: number; key?: TupleValue[]; old?: TupleValue[]; newTuple: TupleValue[] }
    | { tag: "delete"; relationId: number; key?: TupleValue[]; old?: TupleValue[] }
    | { tag: "truncate"; cascade: boolean; restartIdentity: boolean; relationIds: number[] };

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const PG_EPOCH_MICROS = 946_684_800_000_000n;

/** A commit timestamp (µs since 2000-01-01) as a Date (ms precision: for progress only, never for data). */
export function pgTimestampToDate(micros: bigint): Date {
    return new Date(Number((micros + PG_EPOCH_MICROS) / 1000n));
}

/** `16/B374D848` → 0x16B374D848. */
export function lsnToBigInt(lsn: string): bigint {
    const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
    if (!m) throw new Error(`not an LSN: ${JSON.stringify(lsn)}`);
    return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** The text form PostgreSQL prints (`%X/%X`). */
export function bigIntToLsn(value: bigint): string {
    return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** <0, 0, >0 as `a` is before, at, after `b`; null (no position yet) is before everything. */
export function compareLsn(a: string | null | undefined, b: string | null | undefined): number {
    if (a == null) return b == null ? 0 : -1;
    if (b == null) return 1;
    const d = lsnToBigInt(a) - lsnToBigInt(b);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
}

class Reader {
    private offset = 0;
    constructor(private readonly buf: Buffer) {}

    private need(n: number, what: string): void {
        if (this.offset + n > this.buf.length) {
            throw new Error(`pgoutput: message truncated reading ${what} at byte ${this.offset} of ${this.buf.length}`);
        }
    }
    u8(what: string): number {
        this.need(1, what);
        return this.buf.readUInt8(this.offset++);
    }
    i16(what: string): number {
        this.need(2, what);
        const v = this.buf.readInt16BE(this.offset);
        this.offset += 2;
        return v;
    }
    i32(what: string): number {
        this.need(4, what);
        const v = this.buf.readInt32BE(this.offset);
        this.offset += 4;
        return v;
    }
    u32(what: string): number {
        this.need(4, what);
        const v = this.buf.readUInt32BE(this.offset);
        this.offset += 4;
        return v;
    }
    i64(what: string): bigint {
        this.need(8, what);
        const v = this.buf.readBigInt64BE(this.offset);
        this.offset += 8;
        return v;
    }
    lsn(what: string): string {
        this.need(8, what);
        const v = this.buf.readBigUInt64BE(this.offset);
        this.offset += 8;
        return bigIntToLsn(v);
    }
    /** A NUL-terminated UTF-8 string. */
    cstring(what: string): string {
        const end = this.buf.indexOf(0, this.offset);
        if (end < 0) throw new Error(`pgoutput: unterminated string reading ${what} at byte ${this.offset}`);
        const s = this.buf.toString("utf8", this.offset, end);
        this.offset = end + 1;
        return s;
    }
    bytes(n: number, what: string): Buffer {
        this.need(n, what);
        const b = this.buf.subarray(this.offset, this.offset + n);
        this.offset += n;
        return b;
    }
    char(what: string): string {
        return String.fromCharCode(this.u8(what));
    }
    end(tag: string): void {
        if (this.offset !== this.buf.length) {
            throw new Error(`pgoutput: ${this.buf.length - this.offset} unexpected trailing byte(s) after a '${tag}' message`);
        }
    }

    tuple(): TupleValue[] {
        const n = this.i16("tuple column count");
        const values: TupleValue[] = [];
        for (let i = 0; i < n; i++) {
            const kind = this.char("tuple column kind");
            if (kind === "n") values.push(null);
            else if (kind === "u") values.push(UNCHANGED_TOAST);
            else if (kind === "t") values.push(this.bytes(this.i32("value length"), "value").toString("utf8"));
            // 'b' needs the `binary` option, which this engine never asks for.
            else throw new Error(`pgoutput: unsupported tuple column kind '${kind}' (allowed: t, n, u)`);
        }
        return values;
    }
}

/** Decodes one pgoutput v1 message; throws on anything malformed or not part of protocol version 1. */
export function decodePgOutput(buf: Buffer): PgOutputMessage {
    const r = new Reader(buf);
    const tag = r.char("message tag");
    let msg: PgOutputMessage;
    switch (tag) {
        case "B":
            msg = { tag: "begin", finalLsn: r.lsn("final LSN"), commitTime: r.i64("commit time"), xid: r.u32("xid") };
            break;
        case "C":
            msg = { tag: "commit", flags: r.u8("flags"), commitLsn: r.lsn("commit LSN"), endLsn: r.lsn("end LSN"), commitTime: r.i64("commit time") };
            break;
        case "O":
            msg = { tag: "origin", originLsn: r.lsn("origin LSN"), name: r.cstring("origin name") };
            break;
        case "R": {
            const relationId = r.u32("relation id");
            const schema = r.cstring("namespace");
            const name = r.cstring("relation name");
            const replicaIdentity = r.char("replica identity");
            const n = r.i16("column count");
            const columns: RelationColumn[] = [];
            for (let i = 0; i < n; i++) {
                const flags = r.u8("column flags");
                columns.push({ isKey: (flags & 1) === 1, name: r.cstring("column name"), typeOid: r.u32("type oid"), typeMod: r.i32("type modifier") });
            }
            msg = { tag: "relation", relationId, schema, name, replicaIdentity, columns };
            break;
        }
        case "Y":
            msg = { tag: "type", typeOid: r.u32("type oid"), schema: r.cstring("type namespace"), name: r.cstring("type name") };
            break;
        case "I": {
            const relationId = r.u32("relation id");
            const marker = r.char("new tuple marker");
            if (marker !== "N") throw new Error(`pgoutput: insert without a new tuple (got '${marker}')`);
            msg = { tag: "insert", relationId, newTuple: r.tuple() };
            break;
        }
        case "U": {
            const relationId = r.u32("relation id");
            let marker = r.char("tuple marker");
            let key: TupleValue[] | undefined;
            let old: TupleValue[] | undefined;
            if (marker === "K" || marker === "O") {
                if (marker === "K") key = r.tuple();
                else old = r.tuple();
                marker = r.char("new tuple marker");
            }
            if (marker !== "N") throw new Error(`pgoutput: update without a new tuple (got '${marker}')`);
            msg = { tag: "update", relationId, ...(key ? { key } : {}), ...(old ? { old } : {}), newTuple: r.tuple() };
            break;
        }
        case "D": {
            const relationId = r.u32("relation id");
            const marker = r.char("tuple marker");
            if (marker === "K") msg = { tag: "delete", relationId, key: r.tuple() };
            else if (marker === "O") msg = { tag: "delete", relationId, old: r.tuple() };
            else throw new Error(`pgoutput: delete without a key or old tuple (got '${marker}')`);
            break;
        }
        case "T": {
            const count = r.i32("relation count");
            const options = r.u8("truncate options");
            const relationIds: number[] = [];
            for (let i = 0; i < count; i++) relationIds.push(r.u32("relation id"));
            msg = { tag: "truncate", cascade: (options & 1) === 1, restartIdentity: (options & 2) === 2, relationIds };
            break;
        }
        default:
            throw new Error(`pgoutput: unsupported message '${tag}' (protocol version 1: B, C, O, R, Y, I, U, D, T)`);
    }
    r.end(tag);
    return msg;
}
