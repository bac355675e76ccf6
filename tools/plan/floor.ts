/**
 * The benchmark's floor for one planned stack: the same resources (type, name, parent, provider, inputs) registered
 * again under the same recorder with no program logic, through the real SDK classes (`aws.ssm.Parameter`, …) so each
 * carries the same output properties as in the plan. Inputs are plain values, so nothing waits on another resource:
 * the floor is what the engine alone costs for that stack. The event loop turns once per top-level resource, as the
 * stack programs do per tenant.
 */
import type { PlanResource } from "./model";

/** What a floor run reports. */
export interface FloorResult {
    resources: number;
    wallMs: number;
}

/** `aws:ssm/parameter:Parameter` → the exported class `aws.ssm.Parameter`; `pulumi:providers:aws` → `aws.Provider`. */
function classOf(packages: Record<string, Record<string, unknown>>, type: string): (new (name: string, args: object, opts: object) => unknown) | undefined {
    const provider = /^pulumi:providers:(.+)$/.exec(type);
    if (provider) return packages[provider[1]!]?.["Provider"] as never;
    const m = /^([^:]+):([^:]+):([^:]+)$/.exec(type);
    if (!m) return undefined;
    const [, pkg, mod, cls] = m;
    const modName = mod!.split("/")[0]!;
    const ns = modName === "index" ? packages[pkg!] : (packages[pkg!]?.[modName] as Record<string, unknown> | undefined);
    return ns?.[cls!] as never;
}

/**
 * Registers `resources` (one stack's plan resources) under the recorder as stack `stack`, timing the run. Throws on a
 * type no package exports (the floor must be honest: every resource, by its own class).
 */
export async function recordFloor(args: { project: string; stack: string; resources: readonly PlanResource[]; config?: Record<string, string> }): Promise<FloorResult> {
    const [pulumi, aws, postgresql, random, { record }] = await Promise.all([
        import("@pulumi/pulumi"), import("@pulumi/aws"), import("@pulumi/postgresql"), import("@pulumi/random"), import("../../engine/recorder"),
    ]);
    const packages = { aws, postgresql, random } as unknown as Record<string, Record<string, unknown>>;
    class Component extends pulumi.ComponentResource {
        constructor(type: string, name: string, opts: object) {
            super(type, name, {}, opts);
            this.registerOutputs({});
        }
    }
    const byUrn = new Map(args.resources.map((r) => [r.urn, r]));
    const references = Object.fromEntries(args.resources.filter((r) => r.type === "pulumi:pulumi:StackReference").map((r) => [String(r.inputs["name"]), {}]));
    for (const r of args.resources) {
        if (r.custom && r.type !== "pulumi:pulumi:StackReference" && !classOf(packages, r.type)) throw new Error(`floor: no class exports ${r.type}`);
    }
    const start = process.hrtime.bigint();
    const result = await record(async () => {
        const made = new Map<string, unknown>();
        const make = (urn: string | null): unknown => {
            if (urn === null) return undefined;
            const r = byUrn.get(urn);
            if (!r || r.type === "pulumi:pulumi:Stack") return undefined;
            const existing = made.get(urn);
            if (existing !== undefined) return existing;
            const parent = make(r.parent);
            const provider = r.provider === null ? undefined : make(r.provider.slice(0, r.provider.lastIndexOf("::")));
            const opts = { ...(parent ? { parent } : {}), ...(provider ? { provider } : {}), protect: r.options.protect, retainOnDelete: r.options.retainOnDelete } as object;
            let resource: unknown;
            if (r.type === "pulumi:pulumi:StackReference") resource = new pulumi.StackReference(r.name, { name: String(r.inputs["name"]) }, opts);
            else if (!r.custom) resource = new Component(r.type, r.name, opts);
            else resource = new (classOf(packages, r.type)!)(r.name, { ...r.inputs }, opts);
            made.set(urn, resource);
            return resource;
        };
        const root = args.resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? null;
        // Top-level first, each with its descendants; one turn of the event loop per top-level resource.
        const children = new Map<string | null, PlanResource[]>();
        for (const r of args.resources) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
        const subtree = (r: PlanResource): void => {
            make(r.urn);
            for (const c of children.get(r.urn) ?? []) subtree(c);
        };
        for (const top of children.get(root) ?? []) {
            subtree(top);
            await new Promise((resolve) => setImmediate(resolve));
        }
    }, { project: args.project, stack: args.stack, config: args.config ?? {}, stackReferences: references });
    return { resources: result.resources.length, wallMs: Number(process.hrtime.bigint() - start) / 1e6 };
}
