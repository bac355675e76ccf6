import * as fs from "fs";
import { secretOutput, type RecordedResource, type RecordResult } from "../../engine/recorder";
import { attributeTenants, recordStack as recordProgram } from "../../tools/stackRecording";

/** Runs the real stack program for `Pulumi.<stack>.yaml` under `root` and records everything it declares (secrets kept). */
export async function recordStack(root: string, stack: string): Promise<RecordResult> {
    return (await recordProgram({ root, stack, maskSecrets: false })).recording;
}

/** A fleet stack's name as its StackReferences name it (`<org>/<project>/<stack>` of the mock engine). */
export const stackRef = (stack: string): string => `organization/tenancy/${stack}`;

/**
 * What environment `env`'s platform and cell stacks export in a fleet, taken from its single stack's recording: the
 * answers to the StackReferences of the fleet's tenant stacks (the master password as the secret the cell exports).
 */
export function fleetReferences(single: RecordResult, env: string, cells: readonly string[]): Record<string, Record<string, unknown>> {
    const outputs = single.outputs["cells"] as Record<string, Record<string, unknown>>;
    const password = (cell: string) => single.resources.find((x) => x.type === "pulumi:providers:postgresql" && x.name === `cell-${cell}-pg`)!.inputs["password"];
    return {
        [stackRef(env)]: { platform: single.outputs["platform"] },
        ...Object.fromEntries(cells.map((c) => [stackRef(`${env}.cell-${c}`), { cell: { ...outputs[c], masterPassword: secretOutput(password(c)) } }])),
    };
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
