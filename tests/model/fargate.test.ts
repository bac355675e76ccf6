import { describe, expect, it } from "vitest";
import { fargateSizeProblem } from "../../model/fargate";

describe("Fargate task sizes (Linux)", () => {
    it.each([
        [256, 512], [256, 2048], [512, 4096], [1024, 2048], [2048, 16384], [4096, 30720], [8192, 16384], [8192, 61440], [16384, 32768], [16384, 122880],
    ])("cpu %s with %s MiB is a task size", (cpu, memory) => {
        expect(fargateSizeProblem(cpu, memory)).toBeUndefined();
    });

    it.each([
        [256, 1536, "memory", "1536 MiB does not fit cpu 256 (allowed: 512, 1024, 2048)"],
        [256, 4096, "memory", "4096 MiB does not fit cpu 256 (allowed: 512, 1024, 2048)"],
        [8192, 17408, "memory", "17408 MiB does not fit cpu 8192 (allowed: 16384 to 61440 in steps of 4096)"],
        [16384, 36864, "memory", "36864 MiB does not fit cpu 16384 (allowed: 32768 to 122880 in steps of 8192)"],
        [768, 2048, "cpu", "768 is not a Fargate CPU value (allowed: 256, 512, 1024, 2048, 4096, 8192, 16384)"],
    ])("cpu %s with %s MiB is not: the %s is at fault", (cpu, memory, field, message) => {
        expect(fargateSizeProblem(cpu, memory)).toEqual({ field, message });
    });
});
