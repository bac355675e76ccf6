/**
 * Refreshing the price table from AWS Price List offer files (the Bulk API's JSON: `products` by SKU with their
 * attributes, `terms.OnDemand` by SKU with price dimensions). Pure: offer files in, a new table and a report out;
 * tools/costRefresh.ts reads the files and writes cost/prices.json. Every price the files do not state (or state
 * ambiguously) keeps its old value and is named in the report, so a partial download never zeroes a price.
 */
import * as fs from "fs";
import * as path from "path";
import type { PriceTable, RegionPrices } from "./prices";

/** An offer file as the Price List Bulk API publishes it (only what the refresh reads). */
export interface OfferFile {
    offerCode?: string;
    publicationDate?: string;
    products: Record<string, { sku: string; productFamily?: string; attributes?: Record<string, string> }>;
    terms?: {
        OnDemand?: Record<string, Record<string, { priceDimensions?: Record<string, { unit?: string; beginRange?: string; pricePerUnit?: Record<string, string> }> }>>;
    };
}

type Attrs = Record<string, string>;

/** How one price of the table is found: the offer file (service code), which products, and for tables the key. */
interface Rule {
    service: string;
    field: keyof RegionPrices;
    match: (family: string, a: Attrs, usage: string) => boolean;
    /** For a per-class or per-type field: the key of the product; undefined skips it. */
    key?: (a: Attrs) => string | undefined;
    /** Multiplies the file's unit price (per request → per million). */
    scale?: number;
}

/** The usage type without its region prefix (`EUC1-NatGateway-Hours` → `NatGateway-Hours`; us-east-1 often has none). */
export function usageOf(a: Attrs): string {
    return (a.usagetype ?? "").replace(/^(?:[A-Z]{2,4}\d|EU)-/, "");
}

const VOLUME_TYPES: Record<string, string> = { "General Purpose-GP3": "gp3", "General Purpose": "gp2", "Provisioned IOPS": "io1" };
/** The RDS and Aurora instance families the table carries (Graviton and current Intel classes). */
const CLASS = /^db\.(t4g|t3|m6g|m6i|m7g|r6g|r6i|r7g|r8g)\.[a-z0-9]+$/;
const usage = (name: string) => (_f: string, _a: Attrs, u: string) => u === name;
const notIoOptimized = (a: Attrs) => !(a.usagetype ?? "").includes("IOOptimized") && a.storage !== "Aurora IO Optimization Mode";

export const RULES: readonly Rule[] = [
    {
        service: "AmazonRDS", field: "rdsInstanceHour", key: (a) => (CLASS.test(a.instanceType ?? "") ? a.instanceType : undefined),
        match: (f, a) => f === "Database Instance" && a.databaseEngine === "PostgreSQL" && a.deploymentOption === "Single-AZ",
    },
    {
        service: "AmazonRDS", field: "rdsStorageGbMonth", key: (a) => VOLUME_TYPES[a.volumeType ?? ""],
        match: (f, a) => f === "Database Storage" && a.databaseEngine === "PostgreSQL" && a.deploymentOption === "Single-AZ",
    },
    {
        service: "AmazonRDS", field: "auroraInstanceHour", key: (a) => (CLASS.test(a.instanceType ?? "") ? a.instanceType : undefined),
        match: (f, a) => f === "Database Instance" && a.databaseEngine === "Aurora PostgreSQL" && notIoOptimized(a),
    },
    { service: "AmazonRDS", field: "auroraAcuHour", match: (f, a) => f === "ServerlessV2" && a.databaseEngine === "Aurora PostgreSQL" && notIoOptimized(a) },
    { service: "AmazonRDS", field: "auroraStorageGbMonth", match: usage("Aurora:StorageUsage") },
    { service: "AmazonRDS", field: "auroraIoPerMillion", match: usage("Aurora:StorageIOUsage"), scale: 1e6 },
    { service: "AmazonECS", field: "fargateVcpuHour", match: usage("Fargate-vCPU-Hours:perCPU") },
    { service: "AmazonECS", field: "fargateGbHour", match: usage("Fargate-GB-Hours") },
    { service: "AmazonECS", field: "fargateArmVcpuHour", match: usage("Fargate-ARM-vCPU-Hours:perCPU") },
    { service: "AmazonECS", field: "fargateArmGbHour", match: usage("Fargate-ARM-GB-Hours") },
    { service: "AWSELB", field: "albHour", match: (f, _a, u) => f === "Load Balancer-Application" && u === "LoadBalancerUsage" },
    { service: "AWSELB", field: "albLcuHour", match: (f, _a, u) => f === "Load Balancer-Application" && u === "LCUUsage" },
    { service: "AmazonEC2", field: "natHour", match: usage("NatGateway-Hours") },
    { service: "AmazonEC2", field: "natGb", match: usage("NatGateway-Bytes") },
    { service: "AmazonVPC", field: "publicIpv4Hour", match: usage("PublicIPv4:InUseAddress") },
    { service: "AmazonVPC", field: "interfaceEndpointHour", match: usage("VpcEndpoint-Hours") },
    { service: "AmazonVPC", field: "interfaceEndpointGb", match: usage("VpcEndpoint-Bytes") },
    { service: "awskms", field: "kmsKeyMonth", match: usage("KMS-Keys") },
    { service: "AWSSecretsManager", field: "secretMonth", match: usage("AWSSecretsManager-Secrets") },
    { service: "AmazonCloudWatch", field: "logsIngestGb", match: usage("DataProcessing-Bytes") },
    { service: "AmazonCloudWatch", field: "logsStorageGbMonth", match: usage("TimedStorage-ByteHrs") },
    { service: "AmazonCloudWatch", field: "alarmMetricMonth", match: usage("CW:AlarmMonitorUsage") },
    { service: "AmazonCloudWatch", field: "alarmHighResolutionMetricMonth", match: usage("CW:HighResAlarmMonitorUsage") },
    { service: "AmazonCloudWatch", field: "compositeAlarmMonth", match: usage("CW:CompositeAlarmMonitorUsage") },
    { service: "AmazonCloudWatch", field: "dashboardMonth", match: usage("DashboardsUsageHour") },
    { service: "AWSBackup", field: "backupRdsGbMonth", match: (_f, a, u) => /WarmStorage-ByteHrs/.test(u) && /(^|-)RDS$/.test(u) && !/Aurora/i.test(u + (a.resourceType ?? "")) },
    { service: "AWSBackup", field: "backupAuroraGbMonth", match: (_f, _a, u) => /WarmStorage-ByteHrs/.test(u) && /Aurora/i.test(u) },
    { service: "AmazonS3", field: "s3StandardGbMonth", match: (_f, a, u) => u === "TimedStorage-ByteHrs" && (a.volumeType ?? "Standard") === "Standard" },
    { service: "AmazonSNS", field: "snsPublishPerMillion", match: usage("Requests-Tier1"), scale: 1e6 },
    { service: "AWSLambda", field: "lambdaRequestPerMillion", match: usage("Request"), scale: 1e6 },
    { service: "AWSLambda", field: "lambdaGbSecond", match: usage("Lambda-GB-Second") },
    { service: "AmazonECR", field: "ecrStorageGbMonth", match: usage("TimedStorage-ByteHrs") },
    { service: "AmazonEventBridge", field: "schedulerInvocationPerMillion", match: (_f, _a, u) => /Scheduler-Invocation/.test(u), scale: 1e6 },
    { service: "AWSSystemsManager", field: "ssmAdvancedParameterMonth", match: usage("PS-Advanced-Param-Tier1") },
];

/** The services whose offer files a refresh reads, each once. */
export const OFFER_SERVICES = [...new Set(RULES.map((r) => r.service))];

/** The first-tier on-demand USD price of a SKU (the dimension starting at 0), or undefined. */
function onDemandPrice(offer: OfferFile, sku: string): number | undefined {
    const terms = offer.terms?.OnDemand?.[sku];
    if (!terms) return undefined;
    for (const term of Object.values(terms)) {
        const dims = Object.values(term.priceDimensions ?? {});
        const first = dims.find((d) => (d.beginRange ?? "0") === "0") ?? dims[0];
        const usd = first?.pricePerUnit?.USD;
        if (usd !== undefined && Number.isFinite(Number(usd))) return Number(usd);
    }
    return undefined;
}

/** What a refresh of one region found, kept and could not decide. */
export interface RegionReport {
    region: string;
    /** `field` or `field.key` updated from the files. */
    updated: string[];
    /** Prices the files did not state (or whose service file was missing): old value kept. */
    kept: string[];
    /** Prices stated more than once with different values: old value kept. */
    ambiguous: string[];
}

/** One region's prices refreshed from its offer files (by service code); see the module comment. */
export function refreshRegion(region: string, old: RegionPrices, offers: Partial<Record<string, OfferFile>>): { prices: RegionPrices; report: RegionReport } {
    const found = new Map<string, Set<number>>();
    for (const rule of RULES) {
        const offer = offers[rule.service];
        if (!offer) continue;
        for (const p of Object.values(offer.products ?? {})) {
            const a = p.attributes ?? {};
            if (a.regionCode !== undefined && a.regionCode !== region) continue;
            if (!rule.match(p.productFamily ?? "", a, usageOf(a))) continue;
            const key = rule.key ? rule.key(a) : "";
            if (key === undefined) continue;
            const price = onDemandPrice(offer, p.sku);
            if (price === undefined) continue;
            const id = key ? `${rule.field}.${key}` : rule.field;
            const set = found.get(id) ?? new Set<number>();
            set.add(Math.round(price * (rule.scale ?? 1) * 1e10) / 1e10);
            found.set(id, set);
        }
    }
    const prices = structuredClone(old) as unknown as Record<string, number | Record<string, number>>;
    const report: RegionReport = { region, updated: [], kept: [], ambiguous: [] };
    const take = (id: string): number | undefined => {
        const set = found.get(id);
        if (!set) return undefined;
        if (set.size > 1) {
            report.ambiguous.push(`${id} (${[...set].sort((x, y) => x - y).join(", ")})`);
            return undefined;
        }
        return [...set][0];
    };
    for (const rule of RULES) {
        if (rule.key) {
            const table = prices[rule.field] as Record<string, number>;
            const keys = new Set([...Object.keys(table), ...[...found.keys()].filter((k) => k.startsWith(`${rule.field}.`)).map((k) => k.slice(rule.field.length + 1))]);
            for (const key of [...keys].sort()) {
                const v = take(`${rule.field}.${key}`);
                if (v === undefined) {
                    if (key in table && !report.ambiguous.some((x) => x.startsWith(`${rule.field}.${key} `))) report.kept.push(`${rule.field}.${key}`);
                } else {
                    table[key] = v;
                    report.updated.push(`${rule.field}.${key}`);
                }
            }
        } else {
            const v = take(rule.field);
            if (v === undefined) {
                if (!report.ambiguous.some((x) => x.startsWith(`${rule.field} `))) report.kept.push(rule.field);
            } else {
                prices[rule.field] = v;
                report.updated.push(rule.field);
            }
        }
    }
    // Fields without a rule (cross-region transfer is in the AWSDataTransfer file, not read) are kept as they are.
    for (const field of Object.keys(old)) if (!RULES.some((r) => r.field === field)) report.kept.push(field);
    return { prices: prices as unknown as RegionPrices, report };
}

/**
 * The table refreshed for every region whose offer files are given (`offers[region][service]`), dated `asOf`; a
 * region's provenance says it came from the Price List files and their publication dates.
 */
export function refreshTable(table: PriceTable, offers: Record<string, Partial<Record<string, OfferFile>>>, asOf: string): { table: PriceTable; reports: RegionReport[] } {
    const next = structuredClone(table);
    const reports: RegionReport[] = [];
    for (const region of Object.keys(table.regions)) {
        const files = offers[region];
        if (!files || Object.keys(files).length === 0) continue;
        const { prices, report } = refreshRegion(region, table.regions[region]!, files);
        next.regions[region] = prices;
        reports.push(report);
        const dates = [...new Set(Object.values(files).map((f) => f?.publicationDate?.slice(0, 10)).filter(Boolean))].sort();
        next.provenance[region] = `Refreshed on ${asOf} from AWS Price List offer files (${Object.keys(files).sort().join(", ")}; published ${dates.join(", ") || "?"}): ` +
            `${report.updated.length} prices updated, ${report.kept.length + report.ambiguous.length} kept from before (${[...report.kept, ...report.ambiguous].join(", ") || "none"}).`;
    }
    if (reports.length) next.asOf = asOf;
    return { table: next, reports };
}

/** Reads `<dir>/<service>/<region>.json` for the table's regions; absent files are skipped (the report names what was kept). */
export function readOffers(dir: string, regions: readonly string[]): Record<string, Partial<Record<string, OfferFile>>> {
    const out: Record<string, Partial<Record<string, OfferFile>>> = {};
    for (const region of regions) {
        for (const service of OFFER_SERVICES) {
            const file = path.join(dir, service, `${region}.json`);
            if (!fs.existsSync(file)) continue;
            (out[region] ??= {})[service] = JSON.parse(fs.readFileSync(file, "utf8")) as OfferFile;
        }
    }
    return out;
}
