/** `npm run validate -- --stack <name> [--tenants <dir>]`: checks the stack config and every tenant file, offline. */
import { loadRegistry } from "../tenants/registry";
import { failOnRegistryError, parseFlags, printNotices, STACKS_ROOT, EXIT_USAGE } from "./cli";
import { validationReport } from "./validate/report";

const USAGE = "npm run validate -- --stack <name> [--tenants <dir>]";
const { values } = parseFlags(USAGE, { stack: { type: "string" }, tenants: { type: "string" } });
if (!values.stack) {
    console.error(`--stack is required\nusage: ${USAGE}`);
    process.exit(EXIT_USAGE);
}
try {
    const registry = loadRegistry({ root: STACKS_ROOT, stack: values.stack, tenantsDir: values.tenants });
    printNotices(registry.notices);
    process.stdout.write(validationReport(registry, values.tenants ?? registry.config.tenantsDir));
} catch (e) {
    failOnRegistryError(e);
}
