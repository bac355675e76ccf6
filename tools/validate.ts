/** `npm run validate -- --stack <name> [--tenants <dir>]`: checks the stack config and every tenant file, offline. */
import { loadRegistry } from "../tenants/registry";
import { failOnRegistryError, parseFlags, printNotices, STACKS_ROOT, table, EXIT_USAGE } from "./cli";

const USAGE = "npm run validate -- --stack <name> [--tenants <dir>]";
const { values } = parseFlags(USAGE, { stack: { type: "string" }, tenants: { type: "string" } });
if (!values.stack) {
    console.error(`--stack is required\nusage: ${USAGE}`);
    process.exit(EXIT_USAGE);
}
try {
    const { config, tenants, notices } = loadRegistry({ root: STACKS_ROOT, stack: values.stack, tenantsDir: values.tenants });
    printNotices(notices);
    console.log(
        table(
            ["SLUG", "TIER", "REGION", "STATUS", "RELEASE", "HOSTS"],
            tenants.map((t) => [t.slug, t.tier, t.region, t.status, t.release.version, t.hostnames.join(", ")]),
        ),
    );
    console.log(`\n${tenants.length} tenant${tenants.length === 1 ? "" : "s"} valid in stack ${config.stack} (${values.tenants ?? config.tenantsDir}).`);
} catch (e) {
    failOnRegistryError(e);
}
