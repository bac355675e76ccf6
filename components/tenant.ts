import * as aws from "@pulumi/aws";
import type * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import type { TenantBackupSettings } from "../stacks/backupConfig";
import type { SizePreset } from "../stacks/config";
import type { Placement, Tenant } from "../tenants/registry";
import { samePlacement, type MoveDnsRecord, type MoveEndpointOutput, type MoveOutput } from "../tenants/moves";
import { TenantBackup } from "./backup/tenantBackup";
import type { BackupVaultRef } from "./backup/vaults";
import { DedicatedInstance } from "./dedicatedInstance";
import { coveredByZoneWildcard, tenantCertificates, type TenantCertificates } from "../tenants/certificates";
import { listenerCertificates, type ExternalValidationRecord, type ListenerCertificateSpec } from "./certificate";
import { dnsNamesInZone } from "./dns";
import { HYBRID_DATABASE_NAME, HybridDatabase } from "./hybridDatabase";
import { maintenanceResponse } from "./loadBalancer";
import { MoveAccess, type MoveAccessArgs } from "./moveAccess";
import { labelSuffix, tenantParameterName } from "./naming";
import { subnetLayout } from "./network";
import { ownershipTags } from "./tags";
import { TenantDatabase } from "./tenantDatabase";
import { TenantMonitoring, type PlacementResources } from "./tenantMonitoring";
import { monitoringPlan } from "../model/monitoring";
import type { ThresholdSet, Thresholds } from "../stacks/monitoringConfig";

export type { MoveDnsRecord, MoveEndpointOutput, MoveOutput } from "../tenants/moves";

/** What a tenant uses of its environment (the stack config), resolved. */
export interface TenantEnvironment {
    /** The environment's name (`config.stack`): part of every physical name (secrets, parameters, identifiers). */
    stack: string;
    /** Tenants are served at `<subdomain>.<domain>`. */
    domain: string;
    /** Route 53 zone of `domain`: DNS records and certificate validation of in-zone names. */
    hostedZoneId: string;
    /** Protect the tenant's stateful resources (databases, keys, secrets, schema, roles). */
    protect: boolean;
    /** Multi-AZ databases, three AZs and NAT per AZ for hybrid and dedicated tenants. */
    highAvailability: boolean;
    /** The tenant's size preset (hybrid and dedicated tenants; ignored for shared ones). */
    size?: SizePreset;
    /** RDS instances of hybrid and dedicated tenants: major version, and whether a major upgrade may happen. */
    instanceDatabases: { engineVersion: string; allowMajorVersionUpgrade?: boolean };
    /** AZ IDs of the tenant's region in VPC order (dedicated tenants). */
    availabilityZoneIds: string[];
    logRetentionDays: number;
    /** The app's container port and health check path (a dedicated tenant's own service). */
    app: { containerPort: number; healthCheckPath: string };
    /** The environment's region: the registry parameter's, the cells', the hybrid instances'. */
    region: string;
    /** The shared VPC's block and AZ count: where the deploy runner runs (a move's network path). */
    sharedVpc: { cidr: string; availabilityZones: number };
    /** A move's source placement: its size preset (hybrid, dedicated) and its region's AZ IDs (dedicated). */
    moveSource?: { size?: SizePreset; availabilityZoneIds: string[] };
    /** The tenant's AWS Backup plan (stacks/backupConfig.ts); required while a placement is hybrid or dedicated. */
    backup?: TenantBackupSettings;
    /** Monitoring (tenancy:monitoring): whether the tenant gets alarms, a dashboard and a saved query, and the threshold sets. Defaults to none. */
    monitoring?: { enabled: boolean; thresholds: Record<ThresholdSet, Thresholds> };
}

/**
 * What a tenant uses of the shared platform, as plain values: the SharedPlatform's outputs in a single stack, the
 * platform stack's `platform` output (a StackReference) in a fleet.
 */
export interface PlatformRefs {
    /** The shared VPC and its subnets (hybrid instances live in the isolated ones, their role managers in the private ones). */
    vpcId: pulumi.Input<string>;
    isolatedSubnetIds: pulumi.Input<string>[];
    privateSubnetIds: pulumi.Input<string>[];
    /** Security group of the shared app's tasks: admitted to a hybrid tenant's instance. */
    appSecurityGroupId: pulumi.Input<string>;
    /** The shared ALB: target of in-zone records, and its HTTPS listener for certificates and maintenance rules. */
    loadBalancerDnsName: pulumi.Input<string>;
    loadBalancerZoneId: pulumi.Input<string>;
    httpsListenerArn: pulumi.Input<string>;
    /** ECR repository URL of the app: a dedicated tenant's image is `<url>:<version>`. */
    repositoryUrl: pulumi.Input<string>;
    /** The platform's KMS key: encrypts shared tenants' credentials secrets. */
    keyArn: pulumi.Input<string>;
    /** The deploy runner's security group: a move's data engine runs there (MoveAccess). Needed while a move is declared. */
    deployRunnerSecurityGroupId?: pulumi.Input<string>;
    /** Route tables of the shared VPC's private subnets (the runner's): a dedicated placement's peering routes. Needed while a move is declared. */
    privateRouteTableIds?: pulumi.Input<string>[];
    /** The AWS Backup vault of every region of the environment, and the role selections run as. Needed by hybrid and dedicated tenants. */
    backupVaults?: pulumi.Input<Record<string, BackupVaultRef>>;
    backupRoleArn?: pulumi.Input<string>;
    /** Monitoring: the environment's alarm topic per region, its key per region, the shared app's log group. Needed with monitoring on. */
    alarmTopics?: pulumi.Input<Record<string, string>>;
    alarmKeyArns?: pulumi.Input<Record<string, string>>;
    appLogGroupName?: pulumi.Input<string>;
}

/**
 * What a shared tenant uses of its cell (DatabaseCell): the cell's outputs in a single stack, the cell stack's `cell`
 * output (a StackReference) in a fleet.
 */
export interface CellRefs {
    /** The cell's writer endpoint and port, written into the tenant's secrets. */
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    /** The application database holding the tenant's schema. */
    databaseName: string;
    /** DatabaseHardening's group (`tenancy_tenants`) and reporting (`tenancy_reporting`) roles. */
    groupRoleName: pulumi.Input<string>;
    reportingRoleName: pulumi.Input<string>;
    /** The PostgreSQL provider managing the cell: the cell's own in a single stack, the tenant stack's own in a fleet. */
    provider: postgresql.Provider;
    /** What the tenant's SQL must wait for in the same stack (the cell's writer and hardening). Defaults to none. */
    ready?: pulumi.Input<pulumi.Resource>[];
    /** The cell's admin (master) secret: what a move's data engine logs in with. Needed while a move is declared. */
    adminSecretArn?: pulumi.Input<string>;
    /** The master user when the cell's admins log in with IAM tokens (`adminAuth: iam`); absent with passwords. */
    iamUser?: string;
}

export interface TenantResourcesArgs {
    /**
     * The validated tenant (tenants/registry.ts): its tier, status, host names, domains, sizes and tags decide what is
     * built; its `move` adds the source placement, its `label` and `receipt` name and wire both.
     */
    tenant: Tenant;
    /** The facts of its environment it uses. */
    environment: TenantEnvironment;
    /** The shared platform it is served by (shared and hybrid) or takes its image from (dedicated). */
    platform: PlatformRefs;
    /** The cell of a shared tenant; required for shared tenants, ignored for others. */
    cell?: CellRefs;
    /** The cell of a moving tenant's shared source (`move.from`); required for such a move, ignored otherwise. */
    sourceCell?: CellRefs;
    /** Priority of the tenant's maintenance rule on the shared ALB listener (suspended shared and hybrid tenants). */
    listenerPriority: number;
}

/** What the stack exports for one tenant. */
export interface TenantSummary {
    tier: string;
    status: string;
    region: string;
    hostnames: string[];
    releaseVersion: string;
    database: pulumi.Output<{ host: string; port: number; name: string; schema?: string }>;
    credentialsSecretArn: pulumi.Output<string>;
    /**
     * DNS records the owners of custom domains outside the stack's zone must publish, for every tier, verified or not
     * (ACM renews only while they stay). Empty when there are none or the tenant is offboarded.
     */
    certificateValidationRecords: pulumi.Output<ExternalValidationRecord[]>;
    /** Custom domains outside the zone whose certificate is requested but not attached: not yet `verified: true`. */
    pendingCustomDomains: string[];
    /** The load balancer serving the tenant, where its custom domains must point (CNAME); absent when offboarded. */
    loadBalancerDnsName?: pulumi.Output<string>;
}

/** What a placement gives the tenant: its record's database facts, its admin's, and what a move's network path needs. */
interface BuiltPlacement {
    database: pulumi.Output<{ host: string; port: number; name: string; schema?: string }>;
    secretArn: pulumi.Output<string>;
    endpoint: { [K in keyof MoveEndpointOutput]: pulumi.Input<MoveEndpointOutput[K]> };
    adminSecret: MoveAccessArgs["adminSecrets"][number];
    hybrid?: MoveAccessArgs["hybrid"];
    dedicated?: MoveAccessArgs["dedicated"];
    /** A dedicated placement's own load balancer (absent when offboarded). */
    loadBalancer?: { dnsName: pulumi.Output<string>; zoneId: pulumi.Output<string>; validationRecords: pulumi.Output<ExternalValidationRecord[]> };
    /** What monitoring watches of the placement: its database, load balancer and service. */
    monitored: PlacementResources;
}

/** The tenant as one of its placements sees it: that placement's tier, cell, region, size, network and label. */
function placedTenant(tenant: Tenant, p: Placement): Tenant {
    const { move: _move, receipt: _receipt, cell: _cell, size: _size, network: _network, label: _label, ...rest } = tenant;
    return {
        ...rest,
        tier: p.tier,
        region: p.region,
        ...(p.cell !== undefined ? { cell: p.cell } : {}),
        ...(p.size !== undefined ? { size: p.size } : {}),
        ...(p.network ? { network: p.network } : {}),
        ...(p.label ? { label: p.label } : {}),
    };
}

/** The tenant's own placement (what its file states). */
export function currentPlacement(tenant: Tenant): Placement {
    return {
        tier: tenant.tier,
        region: tenant.region,
        ...(tenant.cell !== undefined ? { cell: tenant.cell } : {}),
        ...(tenant.size !== undefined ? { size: tenant.size } : {}),
        ...(tenant.network ? { network: tenant.network } : {}),
        label: tenant.label ?? "",
    };
}

/**
 * Everything one tenant owns, under one parent so its URNs name it: its placement (a schema on the shared cluster,
 * a hybrid instance, or a dedicated stack), its DNS, and its record in the runtime registry the shared app reads.
 *
 * While a move is declared (`tenant.move`) it owns two placements: the source exactly as it was (same names, still
 * served) and the target, built with its label; the registry record points at the source (the move's flip changes it,
 * so its value is ignored) until this move's verified receipt is committed, then at the target, and the source's
 * roles lose LOGIN and its protection so that removing `move:` retires it. `move` is the stack's `moves.<slug>`.
 */
export class TenantResources extends pulumi.ComponentResource {
    readonly summary: TenantSummary;
    /** The declared move's cutover spec and both placements' admin facts; absent without a move. */
    readonly move?: pulumi.Output<MoveOutput>;

    constructor(name: string, args: TenantResourcesArgs, opts?: pulumi.ComponentResourceOptions) {
        const { tenant, environment: env, platform } = args;
        const served = tenant.status !== "offboarded";
        const certificates = tenantCertificates({
            dedicated: tenant.tier === "dedicated", hostname: tenant.hostnames[0]!, customDomains: tenant.customDomains, zoneDomain: env.domain,
        });
        // The registry rejects these; checked again before anything is registered.
        if (served && certificates.unfit.length) {
            throw new Error(`tenant ${tenant.slug}: no certificate can carry ${certificates.unfit.join(", ")} (ACM main names are at most 64 characters)`);
        }
        if (tenant.tier === "shared" && !args.cell) throw new Error(`tenant ${tenant.slug}: a shared tenant needs its cell (args.cell)`);
        if (tenant.tier !== "shared" && !env.size) throw new Error(`tenant ${tenant.slug}: a ${tenant.tier} tenant needs its size preset (args.environment.size)`);
        const move = tenant.move;
        if (move) {
            const missing = [
                ...(move.from.tier === "shared" && !args.sourceCell ? ["args.sourceCell (the source's cell)"] : []),
                ...(move.from.tier !== "shared" && !env.moveSource?.size ? ["args.environment.moveSource.size (the source's size preset)"] : []),
                ...(platform.deployRunnerSecurityGroupId === undefined || !platform.privateRouteTableIds ? ["args.platform.deployRunnerSecurityGroupId and privateRouteTableIds"] : []),
                ...[args.cell, args.sourceCell].filter((c) => c && c.adminSecretArn === undefined).map(() => "the cell's adminSecretArn"),
            ];
            if (missing.length) throw new Error(`tenant ${tenant.slug}: a move from ${move.from.tier} needs ${missing.join(", ")}`);
        }
        // Placements that are RDS instances (hybrid, dedicated): backed up, each in its region.
        const backedUp = [currentPlacement(tenant), move?.from].filter((p): p is Placement => !!p && p.tier !== "shared").map((p) => ({ region: p.region, label: p.label ?? "" }));
        if (backedUp.length && (!env.backup || platform.backupVaults === undefined || platform.backupRoleArn === undefined)) {
            throw new Error(`tenant ${tenant.slug}: a ${tenant.tier} placement is backed up and needs args.environment.backup and args.platform.backupVaults and backupRoleArn`);
        }
        const monitoring = env.monitoring?.enabled ? monitoringPlan(env.stack, tenant, env.monitoring.thresholds) : undefined;
        if (monitoring && (platform.alarmTopics === undefined || platform.appLogGroupName === undefined)) {
            throw new Error(`tenant ${tenant.slug}: monitoring needs args.platform.alarmTopics and appLogGroupName`);
        }
        super("tenancy:tenant:Tenant", name, {}, opts);
        const tags = ownershipTags({ stack: env.stack, tier: tenant.tier, tenant: tenant.slug, extra: tenant.tags });
        const child = { parent: this };
        const cutover = move?.cutover ?? false;
        const current = currentPlacement(tenant);
        const receipt = tenant.receipt;
        // The tenant moved here (this move's receipt, or a retired move's): records the program takes over from the source.
        const arrivedFrom = move ? (cutover ? move.from.tier : undefined)
            : receipt?.verified && samePlacement(receipt.to, current) ? receipt.from.tier : undefined;

        // --- The placements. Without a move only the tenant's own, exactly as before moves existed.
        const source = move ? this.placement(name, tenant, move.from, "source", cutover, args) : undefined;
        const target = this.placement(name, tenant, current, move ? "target" : "only", cutover, args, arrivedFrom);
        // While a move is declared both placements hold data: the plan of each region takes every instance of the tenant there.
        if (backedUp.length) {
            new TenantBackup(`${name}-backup`, {
                tenant: tenant.slug, env: env.stack, placements: backedUp, settings: env.backup!,
                vaults: platform.backupVaults!, roleArn: platform.backupRoleArn!, tags,
            }, child);
        }
        // Whose data the registry and the outputs point at: the source until this move's receipt is committed.
        const live = source && !cutover ? { placement: move!.from, built: source } : { placement: current, built: target };

        // --- Serving on the shared load balancer (shared and hybrid placements): certificates, deeper in-zone records,
        // the maintenance rule. While a move to or from a dedicated placement is declared, the records follow the flip.
        const sharedSide = [source && move!.from, current].filter((p): p is Placement => !!p && p.tier !== "dedicated");
        let validationRecords: pulumi.Output<ExternalValidationRecord[]> = target.loadBalancer?.validationRecords ?? pulumi.output([]);
        let loadBalancerDnsName: pulumi.Output<string> | undefined = target.loadBalancer?.dnsName;
        const toDedicated = move && current.tier === "dedicated";
        const fromDedicated = (move && move.from.tier === "dedicated") || arrivedFrom === "dedicated";
        if (served && sharedSide.length && !(toDedicated && cutover)) {
            const records = fromDedicated ? (cutover || !move ? "adopt" : "none") : "own";
            const hosts = dnsNamesInZone(tenant.hostnames, env.domain);
            for (const host of records === "own" ? hosts.filter((h) => !coveredByZoneWildcard(h, env.domain)) : records === "adopt" ? hosts : []) {
                // Taken over from the dedicated source (the flip wrote it): allowOverwrite, and the former resource as an alias so it is not deleted.
                const adopt = records === "adopt";
                new aws.route53.Record(`${name}-dns-${host}`, {
                    zoneId: env.hostedZoneId,
                    name: host,
                    type: "A",
                    aliases: [{ name: platform.loadBalancerDnsName, zoneId: platform.loadBalancerZoneId, evaluateTargetHealth: true }],
                    ...(adopt ? { allowOverwrite: true } : {}),
                }, {
                    parent: this,
                    ...(adopt ? { aliases: [{ name: `${name}-dedicated-dns-${host}`, parent: pulumi.createUrn(`${name}-dedicated`, "tenancy:tenant:DedicatedInstance", this) }] } : {}),
                    // The source's records while moving to a dedicated placement: the flip points them there.
                    ...(toDedicated && !cutover ? { ignoreChanges: ["aliases"] } : {}),
                });
            }
            const sharedCertificates = tenantCertificates({ dedicated: false, hostname: tenant.hostnames[0]!, customDomains: tenant.customDomains, zoneDomain: env.domain });
            const shared = this.customDomainCertificates(name, sharedCertificates, env, platform, tags);
            if (!target.loadBalancer) {
                validationRecords = shared;
                loadBalancerDnsName = pulumi.output(platform.loadBalancerDnsName);
            }
            if (tenant.status === "suspended") {
                // The shared app keeps serving everyone else; this tenant's hosts answer from the maintenance page.
                new aws.lb.ListenerRule(`${name}-maintenance`, {
                    listenerArn: platform.httpsListenerArn,
                    priority: args.listenerPriority,
                    // Every host name, verified or not: validation keeps them within a condition's 5 values.
                    conditions: [{ hostHeader: { values: tenant.hostnames } }],
                    actions: [{ type: "fixed-response", fixedResponse: maintenanceResponse() }],
                    tags,
                }, child);
            }
        }

        // --- The runtime registry: one record, at the live placement. While a move is declared and not cut over the
        // flip writes it (inside the write pause), so the program leaves its value alone.
        const recordOf = (p: Placement, built: BuiltPlacement): pulumi.Output<string> => pulumi.jsonStringify({
            slug: tenant.slug,
            displayName: tenant.displayName,
            tier: p.tier,
            status: tenant.status,
            region: p.region,
            hostnames: tenant.hostnames,
            releaseVersion: tenant.release.version,
            features: tenant.features,
            branding: tenant.branding,
            database: built.database,
            credentialsSecretArn: built.secretArn,
        });
        const parameterName = tenantParameterName(env.stack, tenant.slug);
        const targetRecord = recordOf(current, target);
        new aws.ssm.Parameter(`${name}-registry`, {
            name: parameterName,
            type: "String",
            tier: "Standard",
            description: `tenancy runtime record of ${tenant.slug}`,
            // Not secret (it holds the secret's ARN, never a credential): insecureValue keeps it readable in diffs.
            insecureValue: source && !cutover ? recordOf(move!.from, source) : targetRecord,
            tags,
        }, { parent: this, ...(move && !cutover ? { ignoreChanges: ["insecureValue"] } : {}) });

        // --- Monitoring: alarms, dashboard and saved query of every placement that exists (both while a move is declared).
        if (monitoring) {
            new TenantMonitoring(`${name}-monitoring`, {
                env: env.stack,
                tenant,
                plan: monitoring,
                resources: Object.fromEntries([...(source && move ? [[move.from.label, source.monitored] as const] : []), [current.label, target.monitored] as const]),
                alarmTopics: platform.alarmTopics!,
                ...(platform.alarmKeyArns !== undefined ? { alarmKeyArns: platform.alarmKeyArns } : {}),
                appLogGroupName: platform.appLogGroupName!,
                tags,
            }, child);
        }

        if (move && source) {
            const access = new MoveAccess(`${name}-move-access`, {
                tenant: tenant.slug,
                runner: {
                    securityGroupId: platform.deployRunnerSecurityGroupId!,
                    vpcId: platform.vpcId,
                    vpcCidr: env.sharedVpc.cidr,
                    subnetCidrs: subnetLayout(env.sharedVpc.cidr, env.sharedVpc.availabilityZones).private.slice(0, env.sharedVpc.availabilityZones),
                    routeTableIds: platform.privateRouteTableIds!,
                    region: env.region,
                },
                ...(source.hybrid ?? target.hybrid ? { hybrid: source.hybrid ?? target.hybrid } : {}),
                ...(source.dedicated ?? target.dedicated ? { dedicated: source.dedicated ?? target.dedicated } : {}),
                adminSecrets: [source.adminSecret, target.adminSecret],
                tags,
            }, child);
            // The records the flip UPSERTs: every in-zone host name, at the load balancer that serves the target.
            const servedBy = toDedicated ? target.loadBalancer : fromDedicated ? { dnsName: pulumi.output(platform.loadBalancerDnsName), zoneId: pulumi.output(platform.loadBalancerZoneId) } : undefined;
            const dns = servedBy && served
                ? pulumi.all([servedBy.dnsName, servedBy.zoneId]).apply(([dnsName, zoneId]) => dnsNamesInZone(tenant.hostnames, env.domain).map((host): MoveDnsRecord => ({
                    zoneId: env.hostedZoneId, name: host, type: "A", alias: { name: dnsName, zoneId, evaluateTargetHealth: true },
                })))
                : pulumi.output([] as MoveDnsRecord[]);
            this.move = pulumi.output({
                from: source.endpoint,
                to: target.endpoint,
                cutover: { parameter: { name: parameterName, region: env.region, value: targetRecord }, dns },
                runnerPolicy: access.runnerPolicy,
            }) as pulumi.Output<MoveOutput>;
        }

        this.summary = {
            tier: live.placement.tier,
            status: tenant.status,
            region: live.placement.region,
            hostnames: tenant.hostnames,
            releaseVersion: tenant.release.version,
            database: live.built.database,
            credentialsSecretArn: live.built.secretArn,
            certificateValidationRecords: validationRecords,
            pendingCustomDomains: served ? certificates.external.filter((c) => !c.verified).map((c) => c.domain) : [],
            ...(loadBalancerDnsName ? { loadBalancerDnsName } : {}),
        };
        this.registerOutputs({
            hostnames: tenant.hostnames, database: live.built.database, credentialsSecretArn: live.built.secretArn, certificateValidationRecords: validationRecords,
            ...(this.move ? { move: this.move } : {}),
        });
    }

    /**
     * One placement of the tenant. `only`: a tenant without a move; `source`: a move's source, exactly as before the
     * move until its receipt (then retiring); `target`: a move's target, whose DNS records the flip writes and the
     * program takes over after the receipt. `arrivedFrom`: the tier a `only`/`target` placement was moved from, once
     * cut over (a dedicated one takes over the records of a shared or hybrid source).
     */
    private placement(
        name: string, tenant: Tenant, p: Placement, role: "only" | "source" | "target", cutover: boolean, args: TenantResourcesArgs, arrivedFrom?: Placement["tier"],
    ): BuiltPlacement {
        const env = args.environment;
        const t = placedTenant(tenant, p);
        const retiring = role === "source" && cutover;
        const tags = ownershipTags({ stack: env.stack, tier: p.tier, tenant: tenant.slug, extra: tenant.tags });
        const common = { stack: env.stack, protect: env.protect, tags, label: p.label, retiring };
        // Point-in-time by AWS Backup (TenantBackup, every RDS placement of the tenant): it owns the automated backups.
        const automatedBackupsManagedByAwsBackup = env.backup?.pointInTimeDays !== undefined;
        // What the cutover changes on a source (its roles' LOGIN, its host records) stays the cutover's until the receipt.
        const flipped = role === "source" && !cutover;
        const size = role === "source" ? env.moveSource?.size : env.size;
        const endpointOf = (host: pulumi.Input<string>, port: pulumi.Input<number>, database: string, adminSecretArn: pulumi.Input<string>, iamUser?: string) => ({
            tier: p.tier, ...(p.cell !== undefined ? { cell: p.cell } : {}), region: p.region, label: p.label, host, port, database, adminSecretArn,
            ...(iamUser ? { iamUser } : {}),
        });
        if (p.tier === "shared") {
            const cell = (role === "source" ? args.sourceCell : args.cell)!;
            const db = new TenantDatabase(`${name}-db${labelSuffix(p.label)}`, {
                ...common,
                tenant: t,
                databaseName: cell.databaseName,
                host: cell.host,
                port: cell.port,
                groupRoleName: cell.groupRoleName,
                reportingRoleName: cell.reportingRoleName,
                secretKmsKeyId: args.platform.keyArn,
                moveSource: flipped,
            // In a single stack its SQL must wait for the cell's writer and hardening.
            }, { parent: this, provider: cell.provider, dependsOn: cell.ready ?? [] });
            return {
                database: pulumi.all([cell.host, cell.port, db.schemaName]).apply(([host, port, schema]) => ({ host, port, name: cell.databaseName, schema })),
                secretArn: db.runtimeSecretArn,
                endpoint: endpointOf(cell.host, cell.port, cell.databaseName, cell.adminSecretArn ?? "", cell.iamUser),
                adminSecret: { secretArn: cell.adminSecretArn ?? "", kmsKeyArn: args.platform.keyArn, region: env.region },
                monitored: {},
            };
        }
        if (p.tier === "hybrid") {
            const db = new HybridDatabase(`${name}-db`, {
                ...common,
                tenant: t,
                size: size!,
                engineVersion: env.instanceDatabases.engineVersion,
                allowMajorVersionUpgrade: env.instanceDatabases.allowMajorVersionUpgrade,
                vpcId: args.platform.vpcId,
                isolatedSubnetIds: args.platform.isolatedSubnetIds,
                privateSubnetIds: args.platform.privateSubnetIds,
                appSecurityGroupId: args.platform.appSecurityGroupId,
                multiAz: env.highAvailability,
                logRetentionDays: env.logRetentionDays,
                automatedBackupsManagedByAwsBackup,
            }, { parent: this });
            return {
                database: pulumi.all([db.address, db.port, db.databaseName]).apply(([host, port, dbName]) => ({ host, port, name: dbName, schema: db.schemaName })),
                // The runtime role's secret, never the master's.
                secretArn: db.credentialsSecretArn,
                endpoint: endpointOf(db.address, db.port, HYBRID_DATABASE_NAME, db.database.masterSecretArn),
                adminSecret: { secretArn: db.database.masterSecretArn, kmsKeyArn: db.keyArn, region: env.region },
                hybrid: { securityGroupId: db.database.securityGroupId },
                monitored: { database: { identifier: db.database.instance.identifier, instanceClass: size!.dbInstanceClass, allocatedStorageGb: size!.allocatedStorageGb } },
            };
        }
        // A dedicated target's records are the flip's until the receipt; then (and after the move) the program takes
        // them over, with the shared serving's former deeper records as aliases.
        const adopt = (role === "target" && cutover) || (role === "only" && arrivedFrom !== undefined && arrivedFrom !== "dedicated");
        const formerRecords = new Set(dnsNamesInZone(tenant.hostnames, env.domain).filter((h) => !coveredByZoneWildcard(h, env.domain)));
        const dns = role === "target" && !cutover
            ? { declare: false }
            : adopt
                ? { declare: true, allowOverwrite: true, aliases: (host: string) => (formerRecords.has(host) ? [{ name: `${name}-dns-${host}`, parent: this }] : []) }
                : { declare: true, ...(flipped ? { ignoreAliases: true } : {}) };
        const dedicated = new DedicatedInstance(`${name}-dedicated`, {
            ...common,
            tenant: t,
            size: size!,
            domain: env.domain,
            hostedZoneId: env.hostedZoneId,
            imageRepositoryUrl: args.platform.repositoryUrl,
            availabilityZoneIds: role === "source" ? (env.moveSource?.availabilityZoneIds ?? []) : env.availabilityZoneIds,
            engineVersion: env.instanceDatabases.engineVersion,
            allowMajorVersionUpgrade: env.instanceDatabases.allowMajorVersionUpgrade,
            highAvailability: env.highAvailability,
            automatedBackupsManagedByAwsBackup,
            logRetentionDays: env.logRetentionDays,
            containerPort: env.app.containerPort,
            healthCheckPath: env.app.healthCheckPath,
            dns,
        }, { parent: this });
        const lb = dedicated.loadBalancer;
        return {
            database: pulumi.all([dedicated.database.address, dedicated.database.port]).apply(([host, port]) => ({ host, port, name: "app", schema: dedicated.roles.schemaName })),
            secretArn: dedicated.roles.runtimeSecretArn,
            endpoint: endpointOf(dedicated.database.address, dedicated.database.port, "app", dedicated.database.masterSecretArn),
            adminSecret: { secretArn: dedicated.database.masterSecretArn, kmsKeyArn: dedicated.key.arn, region: p.region },
            dedicated: {
                region: p.region,
                vpcId: dedicated.network.vpcId,
                vpcCidr: p.network!.cidr,
                routeTableId: dedicated.network.isolatedRouteTableId,
                securityGroupId: dedicated.database.securityGroupId,
            },
            ...(lb ? { loadBalancer: { dnsName: lb.dnsName, zoneId: lb.zoneId, validationRecords: lb.externalValidationRecords } } : {}),
            monitored: {
                database: { identifier: dedicated.database.instance.identifier, instanceClass: size!.dbInstanceClass, allocatedStorageGb: size!.allocatedStorageGb },
                ...(lb ? { loadBalancer: { arnSuffix: lb.loadBalancer.arnSuffix, targetGroupArnSuffix: lb.targetGroup.arnSuffix } } : {}),
                ...(dedicated.service ? {
                    service: { clusterArn: dedicated.service.service.cluster, serviceName: dedicated.service.service.name, logGroupName: dedicated.service.logGroupName },
                } : {}),
            },
        };
    }

    /**
     * Certificates of a shared or hybrid tenant on the shared ALB's HTTPS listener: one for its in-zone names the
     * platform's `*.<domain>` does not cover (validated here), and one per custom domain outside the zone, requested at
     * once with its records exported, and waited for and attached only once the tenant file says it is verified.
     */
    private customDomainCertificates(
        name: string, certificates: TenantCertificates, env: TenantEnvironment, platform: PlatformRefs, tags: Record<string, string>,
    ): pulumi.Output<ExternalValidationRecord[]> {
        const specs: ListenerCertificateSpec[] = [
            ...(certificates.zone ? [{ key: "zone", names: certificates.zone, attach: true }] : []),
            ...certificates.external.map((c) => ({ key: c.domain, names: c, attach: c.verified })),
        ];
        return listenerCertificates(name, {
            listenerArn: platform.httpsListenerArn,
            certificates: specs,
            zoneDomain: env.domain,
            hostedZoneId: env.hostedZoneId,
            zoneRecords: new Map<string, aws.route53.Record>(),
            recordName: (base: string) => `${name}-cert-validation-${base}`,
            tags,
        }, { parent: this }).externalRecords;
    }
}
