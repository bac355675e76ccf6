import * as fs from "fs";
import type { RecordedResource, RecordResult } from "../../engine/recorder";
import { attributeTenants, recordStack as recordProgram } from "../../tools/stackRecording";

/** Runs the real stack program for `Pulumi.<stack>.yaml` under `root` and records everything it declares (secrets kept). */
export async function recordStack(root: string, stack: string): Promise<RecordResult> {
    return (await recordProgram({ root, stack, maskSecrets: false })).recording;
}

/** Slug of the tenant a resource belongs to (its `tenancy:tenant:Tenant` ancestor), or null for the platform. */
export function tenantOf(result: RecordResult): (r: RecordedResource) => string | null {
    const owners = attributeTenants(result.resources);
    return (r) => owners.get(r.urn) ?? null;
}

/** Every string found anywhere in a value. */
export function stringsIn(value: unknown, out: string[] = []): string[] {
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) value.forEach((v) => stringsIn(v, out));
    else if (value && typeof value === "object") Object.values(value).forEach((v) => stringsIn(v, out));
    return out;
}

export function removeDir(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
}
