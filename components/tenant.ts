import * as aws from "@pulumi/aws";
import type * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import type { SizePreset } from "../stacks/config";
import type { Tenant } from "../tenants/registry";
import { DedicatedInstance } from "./dedicatedInstance";
import { coveredByZoneWildcard, tenantCertificates, type TenantCertificates } from "../tenants/certificates";
import { listenerCertificates, type ExternalValidationRecord, type ListenerCertificateSpec } from "./certificate";
import { dnsNamesInZone } from "./dns";
import { HybridDatabase } from "./hybridDatabase";
import { maintenanceResponse } from "./loadBalancer";
import { tenantParameterName } from "./naming";
import { ownershipTags } from "./tags";
import { TenantDatabase } from "./tenantDatabase";

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
}

export interface TenantResourcesArgs {
    /** The validated tenant (tenants/registry.ts): its tier, status, host names, domains, sizes and tags decide what is built. */
    tenant: Tenant;
    /** The facts of its environment it uses. */
    environment: TenantEnvironment;
    /** The shared platform it is served by (shared and hybrid) or takes its image from (dedicated). */
    platform: PlatformRefs;
    /** The cell of a shared tenant; required for shared tenants, ignored for others. */
    cell?: CellRefs;
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

/**
 * Everything one tenant owns, under one parent so its URNs name it: its placement (a schema on the shared cluster,
 * a hybrid instance, or a dedicated stack), its DNS, and its record in the runtime registry the shared app reads.
 */
export class TenantResources extends pulumi.ComponentResource {
    readonly summary: TenantSummary;

    constructor(name: string, args: TenantResourcesArgs, opts?: pulumi.ComponentResourceOptions) {
        const { tenant, environment: env, platform, cell } = args;
        const served = tenant.status !== "offboarded";
        const certificates = tenantCertificates({
            dedicated: tenant.tier === "dedicated", hostname: tenant.hostnames[0]!, customDomains: tenant.customDomains, zoneDomain: env.domain,
        });
        // The registry rejects these; checked again before anything is registered.
        if (served && certificates.unfit.length) {
            throw new Error(`tenant ${tenant.slug}: no certificate can carry ${certificates.unfit.join(", ")} (ACM main names are at most 64 characters)`);
        }
        if (tenant.tier === "shared" && !cell) throw new Error(`tenant ${tenant.slug}: a shared tenant needs its cell (args.cell)`);
        if (tenant.tier !== "shared" && !env.size) throw new Error(`tenant ${tenant.slug}: a ${tenant.tier} tenant needs its size preset (args.environment.size)`);
        super("tenancy:tenant:Tenant", name, {}, opts);
        const tags = ownershipTags({ stack: env.stack, tier: tenant.tier, tenant: tenant.slug, extra: tenant.tags });
        const child = { parent: this };
        const common = { stack: env.stack, protect: env.protect, tags };

        let database: TenantSummary["database"];
        let secretArn: pulumi.Output<string>;
        let validationRecords: pulumi.Output<ExternalValidationRecord[]> = pulumi.output([]);
        let loadBalancerDnsName: pulumi.Output<string> | undefined;
        if (tenant.tier === "shared") {
            const db = new TenantDatabase(`${name}-db`, {
                ...common,
                tenant,
                databaseName: cell!.databaseName,
                host: cell!.host,
                port: cell!.port,
                groupRoleName: cell!.groupRoleName,
                reportingRoleName: cell!.reportingRoleName,
                secretKmsKeyId: platform.keyArn,
            // In a single stack its SQL must wait for the cell's writer and hardening.
            }, { parent: this, provider: cell!.provider, dependsOn: cell!.ready ?? [] });
            database = pulumi.all([cell!.host, cell!.port, db.schemaName]).apply(([host, port, schema]) => ({
                host, port, name: cell!.databaseName, schema,
            }));
            secretArn = db.runtimeSecretArn;
        } else if (tenant.tier === "hybrid") {
            const db = new HybridDatabase(`${name}-db`, {
                ...common,
                tenant,
                size: env.size!,
                engineVersion: env.instanceDatabases.engineVersion,
                allowMajorVersionUpgrade: env.instanceDatabases.allowMajorVersionUpgrade,
                vpcId: platform.vpcId,
                isolatedSubnetIds: platform.isolatedSubnetIds,
                privateSubnetIds: platform.privateSubnetIds,
                appSecurityGroupId: platform.appSecurityGroupId,
                multiAz: env.highAvailability,
                logRetentionDays: env.logRetentionDays,
            }, child);
            database = pulumi.all([db.address, db.port, db.databaseName]).apply(([host, port, name]) => ({ host, port, name, schema: db.schemaName }));
            // The runtime role's secret, never the master's.
            secretArn = db.credentialsSecretArn;
        } else {
            const dedicated = new DedicatedInstance(`${name}-dedicated`, {
                ...common,
                tenant,
                size: env.size!,
                domain: env.domain,
                hostedZoneId: env.hostedZoneId,
                imageRepositoryUrl: platform.repositoryUrl,
                availabilityZoneIds: env.availabilityZoneIds,
                engineVersion: env.instanceDatabases.engineVersion,
                allowMajorVersionUpgrade: env.instanceDatabases.allowMajorVersionUpgrade,
                highAvailability: env.highAvailability,
                logRetentionDays: env.logRetentionDays,
                containerPort: env.app.containerPort,
                healthCheckPath: env.app.healthCheckPath,
            }, child);
            database = pulumi.all([dedicated.database.address, dedicated.database.port]).apply(([host, port]) => ({ host, port, name: "app", schema: dedicated.roles.schemaName }));
            if (dedicated.loadBalancer) {
                validationRecords = dedicated.loadBalancer.externalValidationRecords;
                loadBalancerDnsName = dedicated.loadBalancer.dnsName;
            }
            secretArn = dedicated.roles.runtimeSecretArn;
        }

        if (tenant.tier !== "dedicated" && served) {
            // The platform's `*.<domain>` answers for names one label under the zone (the tenant's own host name among
            // them); only deeper in-zone names need a record of the tenant's.
            for (const host of dnsNamesInZone(tenant.hostnames, env.domain).filter((h) => !coveredByZoneWildcard(h, env.domain))) {
                new aws.route53.Record(`${name}-dns-${host}`, {
                    zoneId: env.hostedZoneId,
                    name: host,
                    type: "A",
                    aliases: [{ name: platform.loadBalancerDnsName, zoneId: platform.loadBalancerZoneId, evaluateTargetHealth: true }],
                }, child);
            }
            validationRecords = this.customDomainCertificates(name, certificates, env, platform, tags);
            loadBalancerDnsName = pulumi.output(platform.loadBalancerDnsName);
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

        new aws.ssm.Parameter(`${name}-registry`, {
            name: tenantParameterName(env.stack, tenant.slug),
            type: "String",
            tier: "Standard",
            description: `tenancy runtime record of ${tenant.slug}`,
            // Not secret (it holds the secret's ARN, never a credential): insecureValue keeps it readable in diffs.
            insecureValue: pulumi.jsonStringify({
                slug: tenant.slug,
                displayName: tenant.displayName,
                tier: tenant.tier,
                status: tenant.status,
                region: tenant.region,
                hostnames: tenant.hostnames,
                releaseVersion: tenant.release.version,
                features: tenant.features,
                branding: tenant.branding,
                database,
                credentialsSecretArn: secretArn,
            }),
            tags,
        }, child);

        this.summary = {
            tier: tenant.tier,
            status: tenant.status,
            region: tenant.region,
            hostnames: tenant.hostnames,
            releaseVersion: tenant.release.version,
            database,
            credentialsSecretArn: secretArn,
            certificateValidationRecords: validationRecords,
            pendingCustomDomains: served ? certificates.external.filter((c) => !c.verified).map((c) => c.domain) : [],
            ...(loadBalancerDnsName ? { loadBalancerDnsName } : {}),
        };
        this.registerOutputs({ hostnames: tenant.hostnames, database, credentialsSecretArn: secretArn, certificateValidationRecords: validationRecords });
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
