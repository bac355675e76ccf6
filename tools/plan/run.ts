/** The offline plan: the recorded stack program(s) of an environment turned into a plan document. */
import type { Plan } from "./model";
import { planEnvironment, type PlanEnvironmentOptions } from "./environment";

export interface RunPlanOptions extends Omit<PlanEnvironmentOptions, "env"> {
    /** The environment (every stack of it) or one stack of a fleet. */
    stack: string;
}

/** Runs the offline plan; throws a RegistryError with every problem when the input is invalid. */
export async function runPlan(opts: RunPlanOptions): Promise<Plan> {
    const { stack, ...rest } = opts;
    return planEnvironment({ ...rest, env: stack });
}
