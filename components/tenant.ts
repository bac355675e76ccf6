import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../stacks/config";
import type { Tenant } from "../tenants/registry";
import { DedicatedInstance } from "./dedicatedInstance";
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
}

/**
 * Everything one tenant owns, under one parent so its URNs name it: its placement (a schema on the shared cluster,
 * a hybrid instance, or a dedicated stack), its DNS, and its record in the runtime registry the shared app reads.
 */
export class TenantResources extends pulumi.ComponentResource {
    readonly summary: TenantSummary;
    /** DNS records the customer must publish for custom domains outside the stack's zone. */
    certificateValidationRecords?: pulumi.Output<{ name: string; type: string; value: string }[]>;

    constructor(name: string, args: TenantResourcesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tenancy:tenant:Tenant", name, {}, opts);
        const { tenant, config, platform } = args;
        const tags = ownershipTags({ stack: config.stack, tier: tenant.tier, tenant: tenant.slug, extra: tenant.tags });
        const child = { parent: this };
        const common = { stack: config.stack, protect: config.protect, tags };

        let database: TenantSummary["database"];
        let secretArn: pulumi.Output<string>;
        let servedBy: pulumi.Output<{ dnsName: string; zoneId: string }> | undefined;
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
                engineVersion: config.shared.database.engineVersion,
                vpcId: platform.network.vpcId,
                isolatedSubnetIds: platform.network.isolatedSubnetIds,
                appSecurityGroupId: platform.app.securityGroupId,
                multiAz: config.highAvailability,
                logRetentionDays: config.logRetentionDays,
            }, child);
            database = pulumi.all([db.address, db.port, db.databaseName]).apply(([host, port, name]) => ({ host, port, name }));
            secretArn = db.credentialsSecretArn;
        } else {
            const dedicated = new DedicatedInstance(`${name}-dedicated`, {
                ...common,
                tenant,
                size: config.sizes[tenant.size ?? "small"],
                domain: config.domain,
                hostedZoneId: config.hostedZoneId,
                imageRepositoryUrl: platform.repository.repositoryUrl,
                engineVersion: config.shared.database.engineVersion,
                highAvailability: config.highAvailability,
                logRetentionDays: config.logRetentionDays,
                containerPort: config.shared.app.containerPort,
                healthCheckPath: config.shared.app.healthCheckPath,
            }, child);
            database = pulumi.all([dedicated.database.address, dedicated.database.port]).apply(([host, port]) => ({ host, port, name: "app" }));
            secretArn = dedicated.database.masterSecretArn;
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
            if (tenant.customDomains.length) this.customDomainCertificate(name, tenant, config, platform, tags);
            if (tenant.status === "suspended") {
                // The shared app keeps serving everyone else; this tenant's hosts answer from the maintenance page.
                new aws.lb.ListenerRule(`${name}-maintenance`, {
                    listenerArn: platform.loadBalancer.httpsListenerArn,
                    priority: args.listenerPriority,
                    conditions: [{ hostHeader: { values: tenant.hostnames.slice(0, 5) } }],
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
        };
        this.registerOutputs({ hostnames: tenant.hostnames, database, credentialsSecretArn: secretArn });
    }

    /**
     * Custom domains served by the shared ALB need their own certificate on its HTTPS listener. Names in the stack's
     * zone are validated here; for others the validation records are exported and `pulumi up` waits until the
     * customer has published them.
     */
    private customDomainCertificate(name: string, tenant: Tenant, config: StackConfig, platform: SharedPlatform, tags: Record<string, string>): void {
        const child = { parent: this };
        const [first, ...rest] = tenant.customDomains;
        const cert = new aws.acm.Certificate(`${name}-cert`, {
            domainName: first,
            subjectAlternativeNames: rest,
            validationMethod: "DNS",
            tags,
        }, child);
        const inZone = new Set(dnsNamesInZone(tenant.customDomains, config.domain));
        const records = tenant.customDomains.filter((d) => inZone.has(d)).map((domain) => {
            const option = cert.domainValidationOptions.apply((opts) => opts.find((o) => o.domainName === domain)!);
            return new aws.route53.Record(`${name}-cert-validation-${domain}`, {
                zoneId: config.hostedZoneId,
                name: option.resourceRecordName,
                type: option.resourceRecordType,
                records: [option.resourceRecordValue],
                ttl: 300,
                allowOverwrite: true,
            }, child);
        });
        const validation = new aws.acm.CertificateValidation(`${name}-cert-validation`, {
            certificateArn: cert.arn,
            validationRecordFqdns: records.map((r) => r.fqdn),
        }, child);
        new aws.lb.ListenerCertificate(`${name}-listener-cert`, {
            listenerArn: platform.loadBalancer.httpsListenerArn,
            certificateArn: validation.certificateArn,
        }, child);
        this.certificateValidationRecords = cert.domainValidationOptions.apply((opts) =>
            opts.filter((o) => !inZone.has(o.domainName)).map((o) => ({ name: o.resourceRecordName, type: o.resourceRecordType, value: o.resourceRecordValue })),
        );
    }
}
