/**
 * Moves of a tenant between placements: the placements' identity and labels, and the receipt `npm run move` writes at
 * cutover (`tenants/<env>/.moves/<slug>.json`). Pure; no Pulumi.
 */
import { z } from "zod";
import type { SizeName, Tier } from "./schema";

/** One placement of a tenant: where its data lives. Compatible with move/types.ts `PlacementRef`. */
export interface Placement {
    tier: Tier;
    /** Shared: the cell (Aurora cluster) holding the schema. */
    cell?: string;
    /** The AWS region (the stack's, unless a dedicated placement elsewhere). */
    region: string;
    /** Hybrid and dedicated: size preset. */
    size?: SizeName;
    /** Dedicated: its VPC. */
    network?: { cidr: string };
    /**
     * Suffix of the names that would collide between two placements of one tenant (component names, secret names, a
     * fleet stack's PostgreSQL provider): "" for a tenant that never moved, the placement key for a move's target.
     */
    label: string;
}

/** A placement as the receipt records it: the server always, the placement fields when the tool knew them (env mode). */
export interface ReceiptPlacement {
    /** `host:port/db`, never a password. */
    server: string;
    tier?: Tier;
    cell?: string;
    region?: string;
    label?: string;
}

export interface ReceiptTable {
    name: string;
    sourceRows: number;
    targetRows: number;
    sourceHash: string;
    targetHash: string;
}

export interface ReceiptSequence {
    name: string;
    source: number | string;
    target: number | string;
}

/** What `npm run move` writes at cutover (MOVE.md A): the proof a move copied every row. */
export interface MoveReceipt {
    tenant: string;
    schema: string;
    from: ReceiptPlacement;
    to: ReceiptPlacement;
    startedAt: string;
    finishedAt: string;
    writePauseMs: number;
    tables: ReceiptTable[];
    sequences: ReceiptSequence[];
    verified: boolean;
}

const tiers = ["shared", "hybrid", "dedicated"] as const;
const receiptPlacement = z.object({
    server: z.string(),
    tier: z.enum(tiers).optional(),
    cell: z.string().optional(),
    region: z.string().optional(),
    label: z.string().optional(),
});

/** The receipt's shape; extra keys a newer tool may add are kept out of the type but tolerated. */
export const MoveReceiptSchema = z.object({
    tenant: z.string().min(1),
    schema: z.string().min(1),
    from: receiptPlacement,
    to: receiptPlacement,
    startedAt: z.string(),
    finishedAt: z.string(),
    writePauseMs: z.number().nonnegative(),
    tables: z.array(z.object({
        name: z.string(), sourceRows: z.number(), targetRows: z.number(), sourceHash: z.string(), targetHash: z.string(),
    })),
    sequences: z.array(z.object({ name: z.string(), source: z.union([z.number(), z.string()]), target: z.union([z.number(), z.string()]) })),
    verified: z.boolean(),
});

/** Directory of a stack's receipts, inside its tenant directory. */
export const MOVES_DIR = ".moves";

/** `tenants/<env>/.moves/<slug>.json`, relative to the repository root. */
export function receiptPath(tenantsDir: string, slug: string): string {
    return `${tenantsDir.replace(/\/+$/, "")}/${MOVES_DIR}/${slug}.json`;
}

/** A placement's key, also the label of a move's target: `shared-<cell>`, `hybrid` or `dedicated`. */
export function placementKey(p: { tier: Tier; cell?: string }): string {
    return p.tier === "shared" ? `shared-${p.cell ?? ""}` : p.tier;
}

/** Same placement: tier, and the cell of a shared one or the region of a dedicated one (what tells two apart). */
export function samePlacement(a: { tier?: Tier; cell?: string; region?: string }, b: { tier?: Tier; cell?: string; region?: string }): boolean {
    if (!a.tier || a.tier !== b.tier) return false;
    if (a.tier === "shared") return a.cell === b.cell;
    if (a.tier === "dedicated") return a.region === b.region;
    return true;
}

/** The directions a move may take (MOVE.md B): not between two instances of one kind. */
export function moveAllowed(from: { tier: Tier; cell?: string }, to: { tier: Tier; cell?: string }): boolean {
    if (from.tier === "shared" && to.tier === "shared") return from.cell !== to.cell;
    return from.tier !== to.tier;
}

/** True when `receipt` is the verified receipt of the move `from` → `to`: the move has cut over. */
export function isReceiptOf(receipt: MoveReceipt | undefined, from: Omit<Placement, "label">, to: Omit<Placement, "label">): boolean {
    return !!receipt && receipt.verified && samePlacement(receipt.from, from) && samePlacement(receipt.to, to);
}

/**
 * The labels of a tenant's placements (MOVE.md B "Naming"), so nothing is ever renamed:
 * - the current placement: the receipt's `to.label` when the receipt's `to` is it (a tenant that moved keeps the names
 *   it got as a target), else the placement key while it is a move's target, else "";
 * - a move's source: the receipt's `from.label` when it is this move's receipt, else the receipt's `to.label` when the
 *   receipt's `to` is the source (a tenant moving again), else "".
 */
export function placementLabels(
    current: Omit<Placement, "label">, from: Omit<Placement, "label"> | undefined, receipt: MoveReceipt | undefined,
): { current: string; from?: string } {
    // A receipt's target got its placement key as label (a receipt without labels says the same).
    const fromReceiptTo = (p: Omit<Placement, "label">) => (receipt && samePlacement(receipt.to, p) ? (receipt.to.label ?? placementKey(p)) : undefined);
    const currentLabel = fromReceiptTo(current) ?? (from ? placementKey(current) : "");
    if (!from) return { current: currentLabel };
    const source = isReceiptOf(receipt, from, current) ? (receipt!.from.label ?? "") : (fromReceiptTo(from) ?? "");
    return { current: currentLabel, from: source };
}

// The stack output `moves.<slug>` (components/tenant.ts declares it, move/environment.ts reads it).

/** One side of a declared move, as the stack exports it (`moves.<slug>.from`/`.to`): where its admin logs in, never a password. */
export interface MoveEndpointOutput {
    tier: Tier;
    cell?: string;
    region: string;
    label: string;
    host: string;
    port: number;
    /** The application database holding the tenant's schema `t_<slug>`. */
    database: string;
    /** The admin's JSON `{ username, password }`: a cell's admin secret, an instance's RDS-managed master secret. */
    adminSecretArn: string;
    /** Cells with `adminAuth: iam`: the master user, who logs in with an IAM token instead. */
    iamUser?: string;
}

/** A Route 53 record the move's flip UPSERTs (moves to or from a dedicated placement). */
export interface MoveDnsRecord {
    zoneId: string;
    name: string;
    type: "A";
    alias: { name: string; zoneId: string; evaluateTargetHealth: boolean };
}

/** The stack output `moves.<slug>`, read by `npm run move -- --env` (move/environment.ts). */
export interface MoveOutput {
    from: MoveEndpointOutput;
    to: MoveEndpointOutput;
    cutover: {
        /** The registry parameter, and the exact value the program declares for it once this move's receipt is committed. */
        parameter: { name: string; region: string; value: string };
        /** The records to UPSERT at cutover; none for moves between shared and hybrid placements. */
        dns: MoveDnsRecord[];
    };
    /** IAM policy (JSON) the deploy runner needs during the move: read both admin secrets (README "Moving a tenant"). */
    runnerPolicy: string;
}
