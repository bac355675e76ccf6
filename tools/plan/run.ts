/** The offline plan: the recorded stack program turned into a plan document. */
import { buildPlan, type Plan } from "./model";
import { projectName, recordStack, type RecordStackOptions } from "../stackRecording";

export type RunPlanOptions = Omit<RecordStackOptions, "maskSecrets">;

/** Runs the offline plan of one stack; throws a RegistryError with every problem when the input is invalid. */
export async function runPlan(opts: RunPlanOptions): Promise<Plan> {
    const { registry, recording } = await recordStack({ ...opts, maskSecrets: true });
    return buildPlan({ project: projectName(opts.root), stack: opts.stack, registry, resources: recording.resources });
}
