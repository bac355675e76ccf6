import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { cellStackName, parseStackName, tenantStackName, type Layout, type StackName } from "../model/fleet";
import { RegistryError } from "../tenants/problems";
import { cellProgram } from "./cell";
import { platformProgram } from "./platform";
import { readStack } from "./readConfig";
import { singleProgram } from "./single";
import { stackReference, tenantProgram } from "./tenant";

/** Repository root: tenant directories in the stack config are relative to it. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/**
 * The stack program of every layout: reads and validates the environment's config and its whole registry, then runs
 * the program of this stack's role (model/fleet.ts): `single` (everything), or a fleet's `platform`, `cell` or
 * `tenant` stack. A stack name the registry does not know is a user's mistake: one clean error, nothing registered.
 */
export async function main(root: string = PROJECT_ROOT): Promise<Record<string, unknown>> {
    let stack: ReturnType<typeof readStack>;
    let role: StackName;
    try {
        stack = readStack(root);
        role = stackRole(pulumi.getStack(), stack.registry);
    } catch (e) {
        // A user's mistake: one clean message, no stack trace, nothing registered.
        if (e instanceof RegistryError || e instanceof StackNameError) throw new pulumi.RunError(e.message);
        throw e;
    }
    const { registry: { config, tenants }, appSecretKey } = stack;
    switch (role.role) {
        case "single":
            return singleProgram(config, tenants, appSecretKey);
        case "platform":
            return platformProgram(config, appSecretKey, tenants);
        case "cell":
            return cellProgram(config, role.cell, stackReference(config.stack), regionProvider(config.region));
        case "tenant":
            return tenantProgram(config, tenants, tenants.find((t) => t.slug === role.tenant)!, stackReference, regionProvider(config.region));
    }
}

/** A stack name that names nothing of the environment. */
export class StackNameError extends Error {}

/** The stack's role, checked against the registry: a cell it declares, a tenant it holds, a layout that has such stacks. */
export function stackRole(name: string, registry: { config: { layout: Layout; cells: Record<string, unknown> }; tenants: readonly { slug: string }[] }): StackName {
    const { config, tenants } = registry;
    const parsed = parseStackName(name, config.layout);
    if (parsed.role === "single" || parsed.role === "platform") return parsed;
    const stacks = `${parsed.env}, ${cellStackName(parsed.env, "<cell>")}, ${tenantStackName(parsed.env, "<slug>")}`;
    if (config.layout === "single") {
        throw new StackNameError(`stack ${name}: environment ${parsed.env} has layout single, so its only stack is ${parsed.env} (set tenancy:layout: fleet in Pulumi.${parsed.env}.yaml for a stack per cell and per tenant)`);
    }
    if (parsed.role === "cell" && !(parsed.cell in config.cells)) {
        throw new StackNameError(`stack ${name}: ${parsed.env} declares no cell '${parsed.cell}' (allowed: ${Object.keys(config.cells).map((c) => cellStackName(parsed.env, c)).join(", ")})`);
    }
    if (parsed.role === "tenant" && !tenants.some((t) => t.slug === parsed.tenant)) {
        throw new StackNameError(`stack ${name}: ${parsed.env} has no tenant '${parsed.tenant}' (allowed: ${stacks}, for a cell it declares and a tenant it has)`);
    }
    return parsed;
}

/** Fleet cell and tenant stacks have no `aws:region` of their own: an explicit provider in the environment's region. */
function regionProvider(region: string): aws.Provider {
    return new aws.Provider("aws", { region: region as aws.Region });
}
