/** Shared types of the move engine (`npm run move`): the fixed interface between its modules (design: MOVE.md, section A). */

/** What one run of the tool does; `all` is prepare, sync, cutover, finish. */
export type Phase = "prepare" | "sync" | "cutover" | "finish" | "abort" | "all";

export const PHASES: readonly Phase[] = ["prepare", "sync", "cutover", "finish", "abort", "all"];

/**
 * A failure the operator must read, never a stack trace: exit 1 = usage or preflight (nothing changed),
 * exit 2 = verification failed (source writable again, nothing flipped). `problems` lists every blocker at once.
 */
export class MoveError extends Error {
    constructor(
        message: string,
        readonly exitCode: 1 | 2,
        readonly problems: string[] = [],
    ) {
        super(message);
        this.name = "MoveError";
    }
}

/** Where a tenant's placement lives, as the program declares it (known in env mode only). */
export interface PlacementRef {
    tier: "shared" | "hybrid" | "dedicated";
    cell?: string;
    region?: string;
    label?: string;
}

/** One side of a move: an admin connection URL, and a label safe to print and store (`host:port/db`, no password). */
export interface Endpoint {
    url: string;
    label: string;
    placement?: PlacementRef;
}

export interface MoveContext {
    tenant: string;
    schema: string;
    source: Endpoint;
    target: Endpoint;
    /** Roles the tenant's app and migrations use on each side: t_<slug>_owner, t_<slug>_app (names from components/naming.ts). */
    ownerRole: string;
    runtimeRole: string;
    /** What the target placement declares (move/privileges.ts renders it): reporting role only where it exists on the TARGET. */
    targetPlacement: "shared" | "instance";
    /** Longest write pause allowed; cutover refuses before stopping writes when its estimate exceeds it. Default 5000. */
    maxPauseMs: number;
    /** Lag (bytes of source WAL) under which sync returns and cutover may start. */
    maxLagBytes: number;
    /** The registry flip, inside the write pause (env mode: SSM + Route 53; explicit URLs: none). Returns what it did. */
    flip?: () => Promise<string>;
    /** Progress for the operator: the CLI prints it to stderr (text) or as JSON lines. */
    progress: (event: ProgressEvent) => void;
    /** Clock, replaceable in tests. */
    now?: () => Date;
}

export type ProgressEvent =
    | { kind: "table"; table: string; rows: number; bytes: number; done: boolean }
    | { kind: "lag"; bytes: number }
    | { kind: "step"; message: string };

/**
 * The receipt `tenants/<env>/.moves/<slug>.json` (the proof the data-loss guard asks for before the old placement is
 * retired): one type with the registry's reader, tenants/moves.ts, which validates it.
 */
export type { MoveReceipt as Receipt, ReceiptPlacement as ReceiptSide, ReceiptSequence, ReceiptTable } from "../tenants/moves";
