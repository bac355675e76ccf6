/** Fargate task sizes (Linux): which memory values each CPU value accepts (Amazon ECS Developer Guide, "Task CPU and memory"). */
export const FARGATE_MEMORY: Readonly<Record<number, { min: number; max: number; step: number }>> = {
    256: { min: 512, max: 2048, step: 512 }, // only 512, 1024 and 2048: see fargateSizeProblem
    512: { min: 1024, max: 4096, step: 1024 },
    1024: { min: 2048, max: 8192, step: 1024 },
    2048: { min: 4096, max: 16384, step: 1024 },
    4096: { min: 8192, max: 30720, step: 1024 },
    8192: { min: 16384, max: 61440, step: 4096 },
    16384: { min: 32768, max: 122880, step: 8192 },
};

/** Why a CPU/memory pair is not a Fargate task size (the field at fault and what is allowed), or undefined when it is one. */
export function fargateSizeProblem(cpu: number, memory: number): { field: "cpu" | "memory"; message: string } | undefined {
    const range = FARGATE_MEMORY[cpu];
    if (!range) return { field: "cpu", message: `${cpu} is not a Fargate CPU value (allowed: ${Object.keys(FARGATE_MEMORY).join(", ")})` };
    if (cpu === 256) {
        return [512, 1024, 2048].includes(memory) ? undefined : { field: "memory", message: `${memory} MiB does not fit cpu 256 (allowed: 512, 1024, 2048)` };
    }
    const ok = memory >= range.min && memory <= range.max && (memory - range.min) % range.step === 0;
    return ok ? undefined : { field: "memory", message: `${memory} MiB does not fit cpu ${cpu} (allowed: ${range.min} to ${range.max} in steps of ${range.step})` };
}
