/** `fleet schedule`: the ordered steps of an environment's stacks, offline, as text or JSON. */
import type { Layout, ScheduleStep } from "../model/fleet";

export interface ScheduleDocument {
    env: string;
    layout: Layout;
    steps: { name: ScheduleStep["name"]; stacks: { name: string; role: "platform" | "cell" | "tenant"; tenants: string[]; dependsOn: string[] }[] }[];
}

export function scheduleDocument(env: string, layout: Layout, steps: readonly ScheduleStep[]): ScheduleDocument {
    return {
        env,
        layout,
        steps: steps.map((s) => ({ name: s.name, stacks: s.stacks.map((x) => ({ name: x.name, role: x.role, tenants: [...x.tenants], dependsOn: [...x.dependsOn] })) })),
    };
}

export function renderScheduleText(doc: ScheduleDocument, parallel: number): string {
    const lines = [`Environment ${doc.env} (layout ${doc.layout}): ${doc.steps.reduce((n, s) => n + s.stacks.length, 0)} stacks in ${doc.steps.length} steps, at most ${parallel} at once.`];
    doc.steps.forEach((step, i) => {
        lines.push("", `${i + 1}. ${step.name} (${step.stacks.length} stack${step.stacks.length === 1 ? "" : "s"}${i > 0 ? `, after step ${i}` : ""})`);
        for (const s of step.stacks) {
            const tenants = s.role === "tenant" ? "" : s.tenants.length ? ` tenants: ${s.tenants.join(", ")}` : "";
            const after = s.dependsOn.length ? ` after ${s.dependsOn.join(", ")}` : "";
            lines.push(`   ${s.name}  [${s.role}]${tenants}${after}`);
        }
    });
    return lines.join("\n") + "\n";
}
