import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../stacks/config";
import type { Tenant } from "../tenants/registry";
import { DedicatedInstance } from "./dedicatedInstance";
import { tenantCertificates, type TenantCertificates } from "../tenants/certificates";
import { dnsCertificate, type ExternalValidationRecord } from "./certificate";
import { dnsNamesInZone } from "./dns";
import { HybridDatabase } from "./hybridDatabase";
import { maintenanceResponse } from "./loadBalancer";
import { tenantParameterName } from "./naming";
import type { SharedPlatform } from "./sharedPlatform";
import { ownershipTags } from "./tags";
import { TenantDatabase } from "./tenantDatabase";

export interface TenantResourcesArgs {
    tenant: Tenant;
    config: StackConfig;
    platform: SharedPlatform;
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
        const { tenant, config, platform } = args;
        const served = tenant.status !== "offboarded";
        const certificates = tenantCertificates({
            dedicated: tenant.tier === "dedicated", hostname: tenant.hostnames[0]!, customDomains: tenant.customDomains, zoneDomain: config.domain,
        });
        // The registry rejects these; checked again before anything is registered.
        if (served && certificates.unfit.length) {
            throw new Error(`tenant ${tenant.slug}: no certificate can carry ${certificates.unfit.join(", ")} (ACM main names are at most 64 characters)`);
        }
        super("tenancy:tenant:Tenant", name, {}, opts);
        const tags = ownershipTags({ stack: config.stack, tier: tenant.tier, tenant: tenant.slug, extra: tenant.tags });
        const child = { parent: this };
        const common = { stack: config.stack, protect: config.protect, tags };

        let database: TenantSummary["database"];
        let secretArn: pulumi.Output<string>;
        let servedBy: pulumi.Output<{ dnsName: string; zoneId: string }> | undefined;
        let validationRecords: pulumi.Output<ExternalValidationRecord[]> = pulumi.output([]);
        let loadBalancerDnsName: pulumi.Output<string> | undefined;
        if (tenant.tier === "shared") {
            const db = new TenantDatabase(`${name}-db`, {
                ...common,
                tenant,
                databaseName: platform.databaseName,
                host: platform.databaseHost,
                port: platform.databasePort,
                hardening: platform.hardening,
                secretKmsKeyId: platform.key.arn,
            // Its SQL must wait for the cluster's writer, like the platform's hardening.
            }, { parent: this, provider: platform.postgresProvider, dependsOn: [platform.databaseWriter] });
            database = pulumi.all([platform.databaseHost, platform.databasePort, db.schemaName]).apply(([host, port, schema]) => ({
                host, port, name: platform.databaseName, schema,
            }));
            secretArn = db.runtimeSecretArn;
        } else if (tenant.tier === "hybrid") {
            const db = new HybridDatabase(`${name}-db`, {
                ...common,
                tenant,
                size: config.sizes[tenant.size ?? "small"],
                engineVersion: config.instanceDatabases.engineVersion,
                allowMajorVersionUpgrade: config.instanceDatabases.allowMajorVersionUpgrade,
                vpcId: platform.network.vpcId,
                isolatedSubnetIds: platform.network.isolatedSubnetIds,
                privateSubnetIds: platform.network.privateSubnetIds,
                appSecurityGroupId: platform.app.securityGroupId,
                multiAz: config.highAvailability,
                logRetentionDays: config.logRetentionDays,
            }, child);
            database = pulumi.all([db.address, db.port, db.databaseName]).apply(([host, port, name]) => ({ host, port, name, schema: db.schemaName }));
            // The runtime role's secret, never the master's.
            secretArn = db.credentialsSecretArn;
        } else {
            const dedicated = new DedicatedInstance(`${name}-dedicated`, {
                ...common,
                tenant,
                size: config.sizes[tenant.size ?? "small"],
                domain: config.domain,
                hostedZoneId: config.hostedZoneId,
                imageRepositoryUrl: platform.repository.repositoryUrl,
                availabilityZoneIds: config.availabilityZoneIds[tenant.region] ?? [],
                engineVersion: config.instanceDatabases.engineVersion,
                allowMajorVersionUpgrade: config.instanceDatabases.allowMajorVersionUpgrade,
                highAvailability: config.highAvailability,
                logRetentionDays: config.logRetentionDays,
                containerPort: config.shared.app.containerPort,
                healthCheckPath: config.shared.app.healthCheckPath,
            }, child);
            database = pulumi.all([dedicated.database.address, dedicated.database.port]).apply(([host, port]) => ({ host, port, name: "app", schema: dedicated.roles.schemaName }));
            if (dedicated.loadBalancer) {
                validationRecords = dedicated.loadBalancer.externalValidationRecords;
                loadBalancerDnsName = dedicated.loadBalancer.dnsName;
            }
            secretArn = dedicated.roles.runtimeSecretArn;
        }

        if (tenant.tier !== "dedicated" && tenant.status !== "offboarded") {
            servedBy = pulumi.all([platform.loadBalancer.dnsName, platform.loadBalancer.zoneId]).apply(([dnsName, zoneId]) => ({ dnsName, zoneId }));
            for (const host of dnsNamesInZone(tenant.hostnames, config.domain)) {
                new aws.route53.Record(`${name}-dns-${host}`, {
                    zoneId: config.hostedZoneId,
                    name: host,
                    type: "A",
                    aliases: [{ name: servedBy.dnsName, zoneId: servedBy.zoneId, evaluateTargetHealth: true }],
                }, child);
            }
            validationRecords = this.customDomainCertificates(name, certificates, config, platform, tags);
            loadBalancerDnsName = platform.loadBalancer.dnsName;
            if (tenant.status === "suspended") {
                // The shared app keeps serving everyone else; this tenant's hosts answer from the maintenance page.
                new aws.lb.ListenerRule(`${name}-maintenance`, {
                    listenerArn: platform.loadBalancer.httpsListenerArn,
                    priority: args.listenerPriority,
                    // Every host name, verified or not: validation keeps them within a condition's 5 values.
                    conditions: [{ hostHeader: { values: tenant.hostnames } }],
                    actions: [{ type: "fixed-response", fixedResponse: maintenanceResponse() }],
                    tags,
                }, child);
            }
        }

        new aws.ssm.Parameter(`${name}-registry`, {
            name: tenantParameterName(config.stack, tenant.slug),
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
        name: string, certificates: TenantCertificates, config: StackConfig, platform: SharedPlatform, tags: Record<string, string>,
    ): pulumi.Output<ExternalValidationRecord[]> {
        const child = { parent: this };
        const common = {
            zoneDomain: config.domain,
            hostedZoneId: config.hostedZoneId,
            zoneRecords: new Map<string, aws.route53.Record>(),
            recordName: (base: string) => `${name}-cert-validation-${base}`,
            tags,
        };
        // Create-before-delete (Pulumi's default) attaches a replacement certificate before the old one is removed.
        const attach = (key: string, certificateArn: pulumi.Output<string>) =>
            new aws.lb.ListenerCertificate(`${name}-cert-${key}-attachment`, { listenerArn: platform.loadBalancer.httpsListenerArn, certificateArn }, child);
        if (certificates.zone) {
            const zone = dnsCertificate(`${name}-cert-zone`, { ...common, names: certificates.zone, validate: true }, child);
            attach("zone", zone.validatedArn!);
        }
        const records = certificates.external.map((c) => {
            const cert = dnsCertificate(`${name}-cert-${c.domain}`, { ...common, names: c, validate: c.verified }, child);
            if (cert.validatedArn) attach(c.domain, cert.validatedArn);
            return cert.externalRecords;
        });
        return pulumi.all(records).apply((lists) => lists.flat());
    }
}
