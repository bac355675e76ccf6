import * as fs from "fs";
import { record, type RecordedResource, type RecordResult } from "../../engine/recorder";
import { main } from "../../stacks/program";
import { readStackFile } from "../../tenants/registry";

/** The repository root, where the example stacks live. */
export const ROOT = `${__dirname}/../..`;

/** Runs the real stack program for `Pulumi.<stack>.yaml` under `root` and records everything it declares. */
export async function recordStack(root: string, stack: string): Promise<RecordResult> {
    const { stackFile, problems } = readStackFile(root, stack);
    if (!stackFile) throw new Error(problems.map((p) => p.message).join("\n"));
    return record(() => main(root), { project: "tenancy", stack, config: stackFile.pulumiConfig, secretKeys: stackFile.secretKeys });
}

/** Slug of the tenant a resource belongs to (its `tenancy:tenant:Tenant` ancestor), or null for the platform. */
export function tenantOf(result: RecordResult): (r: RecordedResource) => string | null {
    const byUrn = new Map(result.resources.map((r) => [r.urn, r]));
    return (r) => {
        for (let cur: RecordedResource | undefined = r; cur; cur = cur.parent ? byUrn.get(cur.parent) : undefined) {
            if (cur.type === "tenancy:tenant:Tenant") return cur.name;
        }
        return null;
    };
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
