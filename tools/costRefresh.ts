/**
 * `npm run cost:refresh -- --offers <dir> [--date YYYY-MM-DD] [--out <file>]`
 *
 * Refreshes the committed price table (cost/prices.json) from AWS Price List offer files downloaded beforehand into
 * `<dir>/<service code>/<region>.json` (e.g. `offers/AmazonRDS/eu-central-1.json` from
 * https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonRDS/current/eu-central-1/index.json): no network here.
 * Prices the files do not state keep their value and are listed. Exit 0 written, 1 usage error (nothing written).
 */
import * as fs from "fs";
import * as path from "path";
import { EXIT_USAGE, parseFlags, ROOT } from "./cli";
import { committedPrices, priceTableProblems } from "../cost/prices";
import { OFFER_SERVICES, readOffers, refreshTable } from "../cost/refresh";

const USAGE = "npm run cost:refresh -- --offers <dir> [--date YYYY-MM-DD] [--out <file>]";

function usageError(message: string): never {
    console.error(`${message}\nusage: ${USAGE}`);
    process.exit(EXIT_USAGE);
}

const { values } = parseFlags(USAGE, { offers: { type: "string" }, date: { type: "string" }, out: { type: "string" } });
if (!values.offers) usageError("--offers is required: a directory of <service>/<region>.json offer files");
if (!fs.existsSync(values.offers) || !fs.statSync(values.offers).isDirectory()) usageError(`--offers ${values.offers}: not a directory`);
const date = values.date ?? new Date().toISOString().slice(0, 10);
if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) usageError(`--date '${date}' is not allowed (allowed: YYYY-MM-DD)`);

const old = committedPrices();
let offers;
try {
    offers = readOffers(values.offers, Object.keys(old.regions));
} catch (e) {
    usageError(`--offers ${values.offers}: ${(e as Error).message}`);
}
if (Object.keys(offers).length === 0) {
    usageError(`--offers ${values.offers}: no offer file of the table's regions (expected <service>/<region>.json for services ${OFFER_SERVICES.join(", ")} and regions ${Object.keys(old.regions).join(", ")})`);
}
const { table, reports } = refreshTable(old, offers, date);
const problems = priceTableProblems(table);
if (problems.length) usageError(`the refreshed table is not whole, nothing written: ${problems.join("; ")}`);
const out = path.resolve(values.out ?? path.join(ROOT, "cost", "prices.json"));
fs.writeFileSync(out, `${JSON.stringify(table, null, 2)}\n`);
for (const r of reports) {
    console.error(`${r.region}: ${r.updated.length} prices updated; kept (not in the files): ${r.kept.join(", ") || "none"}` +
        `${r.ambiguous.length ? `; kept (ambiguous in the files): ${r.ambiguous.join(", ")}` : ""}`);
}
console.error(`Wrote ${path.relative(process.cwd(), out) || out} (asOf ${table.asOf}). Review the diff before committing.`);
