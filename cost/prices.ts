/**
 * The committed price table (cost/prices.json): AWS on-demand list prices per region, in USD, with their date and
 * sources. Plain data; `npm run cost:refresh` rewrites the table from AWS Price List offer files (cost/refresh.ts).
 */
import table from "./prices.json";

/** One region's prices. Units are in each name: per hour, per GB-month, per GB, per million requests. */
export interface RegionPrices {
    /** RDS for PostgreSQL, Single-AZ, per instance class; a Multi-AZ instance (primary and standby) costs twice. */
    rdsInstanceHour: Record<string, number>;
    /** RDS storage per storage type (gp3, gp2, io1), Single-AZ; Multi-AZ stores it twice. */
    rdsStorageGbMonth: Record<string, number>;
    /** Aurora PostgreSQL provisioned instances (Aurora Standard), per class. */
    auroraInstanceHour: Record<string, number>;
    /** Aurora Serverless v2, per ACU-hour (Aurora Standard). */
    auroraAcuHour: number;
    auroraStorageGbMonth: number;
    auroraIoPerMillion: number;
    /** Fargate Linux per vCPU-hour and GB-hour, x86 and ARM (Graviton). */
    fargateVcpuHour: number;
    fargateGbHour: number;
    fargateArmVcpuHour: number;
    fargateArmGbHour: number;
    /** Application Load Balancer: per hour and per LCU-hour. */
    albHour: number;
    albLcuHour: number;
    /** NAT gateway: per hour and per GB processed. */
    natHour: number;
    natGb: number;
    /** A public IPv4 address (Elastic IP, an internet-facing load balancer's address per AZ), per hour. */
    publicIpv4Hour: number;
    /** Interface VPC endpoint: per hour per AZ and per GB processed. Gateway endpoints are free. */
    interfaceEndpointHour: number;
    interfaceEndpointGb: number;
    /** A customer-managed KMS key, per month (requests are not priced). */
    kmsKeyMonth: number;
    /** A Secrets Manager secret, per month (API calls are not priced). */
    secretMonth: number;
    /** CloudWatch Logs (Standard class): per GB ingested and per GB-month stored. */
    logsIngestGb: number;
    logsStorageGbMonth: number;
    /** CloudWatch alarms per metric a month (standard and high resolution), composite alarms, dashboards. */
    alarmMetricMonth: number;
    alarmHighResolutionMetricMonth: number;
    compositeAlarmMonth: number;
    dashboardMonth: number;
    /** AWS Backup warm storage of RDS and Aurora recovery points, per GB-month. */
    backupRdsGbMonth: number;
    backupAuroraGbMonth: number;
    /** Data transfer out of this region to another AWS region, per GB (a cross-region backup copy). */
    crossRegionTransferGb: number;
    /** S3 Standard storage, per GB-month (first tier). */
    s3StandardGbMonth: number;
    /** SNS: per million published messages. */
    snsPublishPerMillion: number;
    /** Lambda: per million requests and per GB-second (x86). */
    lambdaRequestPerMillion: number;
    lambdaGbSecond: number;
    /** ECR storage, per GB-month. */
    ecrStorageGbMonth: number;
    /** EventBridge Scheduler, per million invocations. */
    schedulerInvocationPerMillion: number;
    /** An advanced-tier SSM parameter, per month (standard parameters are free). */
    ssmAdvancedParameterMonth: number;
}

export interface PriceTable {
    currency: "USD";
    /** The date the table was taken (YYYY-MM-DD). */
    asOf: string;
    /** What the prices are: on-demand list prices, no discounts. */
    basis: string;
    /** Per region, where its prices come from and how sure they are. */
    provenance: Record<string, string>;
    /** Per service, the public pages and price-list files the prices come from. */
    sources: Record<string, string>;
    regions: Record<string, RegionPrices>;
}

/** The fields a region must price, with whether each is a table per class or type. */
const FIELDS: Record<keyof RegionPrices, "number" | "table"> = {
    rdsInstanceHour: "table", rdsStorageGbMonth: "table", auroraInstanceHour: "table",
    auroraAcuHour: "number", auroraStorageGbMonth: "number", auroraIoPerMillion: "number",
    fargateVcpuHour: "number", fargateGbHour: "number", fargateArmVcpuHour: "number", fargateArmGbHour: "number",
    albHour: "number", albLcuHour: "number", natHour: "number", natGb: "number", publicIpv4Hour: "number",
    interfaceEndpointHour: "number", interfaceEndpointGb: "number", kmsKeyMonth: "number", secretMonth: "number",
    logsIngestGb: "number", logsStorageGbMonth: "number", alarmMetricMonth: "number", alarmHighResolutionMetricMonth: "number",
    compositeAlarmMonth: "number", dashboardMonth: "number", backupRdsGbMonth: "number", backupAuroraGbMonth: "number",
    crossRegionTransferGb: "number", s3StandardGbMonth: "number", snsPublishPerMillion: "number",
    lambdaRequestPerMillion: "number", lambdaGbSecond: "number", ecrStorageGbMonth: "number",
    schedulerInvocationPerMillion: "number", ssmAdvancedParameterMonth: "number",
};

/** Every problem of a price table at once (an empty list when it is whole): missing, negative or unknown fields. */
export function priceTableProblems(t: unknown): string[] {
    const problems: string[] = [];
    const d = t as Partial<PriceTable> | null;
    if (!d || typeof d !== "object") return ["the price table must be an object"];
    if (d.currency !== "USD") problems.push("currency: must be USD");
    if (typeof d.asOf !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(d.asOf)) problems.push("asOf: must be a date YYYY-MM-DD");
    if (!d.regions || typeof d.regions !== "object" || Object.keys(d.regions).length === 0) return [...problems, "regions: must price at least one region"];
    const price = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
    for (const [region, p] of Object.entries(d.regions)) {
        for (const [field, kind] of Object.entries(FIELDS)) {
            const v = (p as unknown as Record<string, unknown>)[field];
            if (kind === "number" ? !price(v) : !(v && typeof v === "object" && Object.values(v).length > 0 && Object.values(v).every(price))) {
                problems.push(`regions.${region}.${field}: must be ${kind === "number" ? "a price (a number, 0 or more)" : "a table of prices (class → number, 0 or more)"}`);
            }
        }
        for (const field of Object.keys(p)) if (!(field in FIELDS)) problems.push(`regions.${region}.${field}: is not a price the estimate uses (allowed: ${Object.keys(FIELDS).join(", ")})`);
        if (!d.provenance || typeof d.provenance[region] !== "string") problems.push(`provenance.${region}: must say where the region's prices come from`);
    }
    return problems;
}

/** The committed table, checked once: a broken table is a bug of this repository, not a user's mistake. */
export function committedPrices(): PriceTable {
    const problems = priceTableProblems(table);
    if (problems.length) throw new Error(`cost/prices.json: ${problems.join("; ")}`);
    return table as PriceTable;
}
