import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { RegistryError } from "../tenants/problems";
import { readStack } from "./readConfig";
import { singleProgram } from "./single";

/** Repository root: tenant directories in the stack config are relative to it. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/**
 * The stack program: validated config and tenants in; the platform, every cell and every tenant out (stacks/single.ts).
 * Exports what was built.
 */
export async function main(root: string = PROJECT_ROOT): Promise<Record<string, unknown>> {
    let stack: ReturnType<typeof readStack>;
    try {
        stack = readStack(root);
    } catch (e) {
        // A user's mistake: one clean message, no stack trace, nothing registered.
        if (e instanceof RegistryError) throw new pulumi.RunError(e.message);
        throw e;
    }
    const { registry: { config, tenants }, appSecretKey } = stack;
    return singleProgram(config, tenants, appSecretKey);
}
