/** Shared types of the restore tool (`npm run restore`): one tenant's schema from a dump or a point-in-time clone. */
import type { Endpoint } from "../move/types";

/**
 * A failure the operator reads, never a stack trace: exit 1 = usage error (bad input, unknown tenant, unreadable dump,
 * unreachable server; nothing changed), exit 2 = verification failed (nothing swapped, the tenant's logins as before).
 */
export class RestoreError extends Error {
    constructor(
        message: string,
        readonly exitCode: 1 | 2,
        readonly problems: string[] = [],
    ) {
        super(message);
        this.name = "RestoreError";
    }
}

export type Tier = "shared" | "hybrid" | "dedicated";
export const TIERS: readonly Tier[] = ["shared", "hybrid", "dedicated"];

/** What the restore reads: a `pg_dump --format=custom` file (with its manifest, if any), or a server holding the schema. */
export type Origin = { kind: "dump"; file: string } | { kind: "source"; source: Endpoint };

/** `side-by-side`: restore into `<schema>_restore_<ts>` only. `swap`: then make it the tenant's schema. */
export type Mode = "side-by-side" | "swap";

export interface RestoreContext {
    tenant: string;
    /** `t_<slug>` (components/naming.ts): the same for every tier. */
    schema: string;
    ownerRole: string;
    runtimeRole: string;
    /** Decides the privileges the program declares (shared: a cell's group and reporting roles; else an instance's). */
    tier: Tier;
    origin: Origin;
    /** The admin URL of the tenant's placement now (a cell, or its hybrid or dedicated instance). */
    target: Endpoint;
    mode: Mode;
    /** Progress lines for the operator (the CLI prints them to stderr). */
    progress: (message: string) => void;
    /** Clock, replaceable in tests. */
    now?: () => Date;
    /** How long the swap waits for its locks on the copy (a reader holding them) before giving up, writes back. Defaults to 30000. */
    lockTimeoutMs?: number;
    /** Tests only: run at the named point, e.g. to tamper or to simulate a kill by throwing. */
    hooks?: {
        /** After the tenant's roles lost LOGIN and their sessions ended, before the swap transaction. */
        afterStop?: () => Promise<void>;
        /** After the swap transaction committed, before the logins come back. */
        afterSwap?: () => Promise<void>;
    };
}

/** One table's content: rows and an order-independent hash of every row's text. */
export interface TableDigest {
    name: string;
    rows: number;
    hash: string;
}

export interface SequenceDigest {
    name: string;
    lastValue: string;
    isCalled: boolean;
}

export interface SchemaDigest {
    tables: TableDigest[];
    sequences: SequenceDigest[];
}

export interface RestoreResult {
    mode: Mode;
    /** The side schema the dump was restored into (after a swap: the name it had before it became the tenant's). */
    sideSchema: string;
    /** The side schema was already restored from the same origin by an earlier run (not restored again). */
    reused: boolean;
    /** What the restored content was checked against at restore time. */
    checkedAgainst: "manifest" | "source" | "nothing";
    /** After a swap: the tenant's former schema, kept. */
    replacedSchema?: string;
    digest: SchemaDigest;
    /** What the run found left by a killed run and put right first. */
    recovered: string[];
}
