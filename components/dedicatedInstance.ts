import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { dedicatedZoneCount, type SizePreset } from "../stacks/config";
import type { Tenant } from "../tenants/registry";
import { AppService } from "./appService";
import { DatabaseInstance } from "./databaseInstance";
import { EncryptionKey } from "./encryptionKey";
import { LoadBalancer } from "./loadBalancer";
import { Network } from "./network";
import { RoleManager } from "./roleManager";
import { dnsNamesInZone } from "./dns";
import { tenantCertificates } from "../tenants/certificates";
import { instanceIdentifier } from "./naming";

export interface DedicatedInstanceArgs {
    /** The dedicated tenant: its region, network, hostnames, release and status decide what is built. */
    tenant: Tenant;
    stack: string;
    /** The tenant's size preset: database class and storage, task size and autoscaling bounds. */
    size: SizePreset;
    /** Stack domain and its hosted zone: in-zone host names get DNS records and certificate validation. */
    domain: string;
    hostedZoneId: string;
    /** ECR repository URL of the app; the tenant's release version is the tag. */
    imageRepositoryUrl: pulumi.Input<string>;
    /**
     * AZ IDs of the tenant's region, in the order its VPC uses them; the first 2 (3 with highAvailability) are used.
     * From the stack's `availabilityZoneIds`.
     */
    availabilityZoneIds: string[];
    /** PostgreSQL engine version of the tenant's RDS instance, e.g. `16.6`. */
    engineVersion: string;
    /** Let a new major `engineVersion` reach the instance (see DatabaseInstanceArgs). Defaults to false. */
    allowMajorVersionUpgrade?: boolean;
    /** Three AZs, NAT per AZ and a Multi-AZ database. Defaults to false. */
    highAvailability?: boolean;
    /** AWS Backup's continuous backup manages the database's automated backups (see DatabaseInstanceArgs). Defaults to false. */
    automatedBackupsManagedByAwsBackup?: boolean;
    protect: boolean;
    logRetentionDays: number;
    containerPort: number;
    healthCheckPath: string;
    tags: Record<string, string>;
    /** The placement's label (tenants/moves.ts), part of the secrets' names. Defaults to "". */
    label?: string;
    /**
     * The placement is a finished move's source (its verified receipt is committed): roles NOLOGIN, the service at zero
     * behind the maintenance page, nothing protected in Pulumi, no deletion protection (final snapshot, retained
     * backups and the key stay), no DNS records. Defaults to false.
     */
    retiring?: boolean;
    /**
     * The Route 53 records of the tenant's in-zone host names. Declared by default; not for a move's target before its
     * cutover (the move's flip writes them, then the program takes them over). `allowOverwrite` takes over the records
     * the flip wrote; `aliases` names each record's former resource (the source placement's), so it is not deleted;
     * `ignoreAliases` leaves a move source's records to the flip.
     */
    dns?: { declare: boolean; allowOverwrite?: boolean; aliases?: (host: string) => pulumi.Input<pulumi.Alias>[]; ignoreAliases?: boolean };
}

/**
 * A dedicated tenant: its own VPC, KMS key, RDS PostgreSQL, ECS Fargate service and ALB, all in the tenant's region
 * through AWS v7's per-resource `region` (no provider per tenant).
 *
 * Status: `active` runs the service; `suspended` scales it to zero and the ALB answers with a maintenance page;
 * `offboarded` removes the serving side (service, ALB, DNS) and keeps the data (key, database, secrets, logs).
 * Suspended and offboarded tenants' database roles lose LOGIN. The app logs in as its runtime role, never as master.
 */
export class DedicatedInstance extends pulumi.ComponentResource {
    readonly key: EncryptionKey;
    readonly network: Network;
    readonly database: DatabaseInstance;
    /** The app's database roles (owner and runtime), managed by a function inside this tenant's VPC. */
    readonly roles: RoleManager;
    readonly loadBalancer?: LoadBalancer;
    readonly service?: AppService;

    constructor(name: string, args: DedicatedInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
        const retiring = args.retiring ?? false;
        // A retiring source serves no one: its service scales to zero behind the maintenance page, as a suspended tenant's.
        const tenant: Tenant = retiring && args.tenant.status === "active" ? { ...args.tenant, status: "suspended" } : args.tenant;
        const { tags } = args;
        const protect = args.protect && !retiring;
        // Checked before anything is registered, so a bad tenant never leaves a half-built component.
        if (!tenant.network) throw new Error(`dedicated tenant ${tenant.slug} has no network.cidr`);
        // The default certificate holds the names we validate; each customer domain has its own, attached once verified.
        const certificates = tenantCertificates({ dedicated: true, hostname: tenant.hostnames[0]!, customDomains: tenant.customDomains, zoneDomain: args.domain });
        if (tenant.status !== "offboarded" && (!certificates.zone || certificates.unfit.length)) {
            throw new Error(`dedicated tenant ${tenant.slug}: no certificate can carry ${certificates.unfit.join(", ")} (ACM main names are at most 64 characters)`);
        }
        super("tenancy:tenant:DedicatedInstance", name, {}, opts);
        const region = tenant.region;
        const ha = args.highAvailability ?? false;
        const child = { parent: this };

        this.key = new EncryptionKey(`${name}-kms`, { description: `tenancy ${args.stack}/${tenant.slug}: database, secrets and logs`, region, tags, protect }, child);
        this.network = new Network(`${name}-net`, {
            cidr: tenant.network.cidr,
            availabilityZoneIds: args.availabilityZoneIds.slice(0, dedicatedZoneCount(ha)),
            natGateways: ha ? "perAz" : "single",
            region,
            kmsKeyArn: this.key.arn,
            logRetentionDays: args.logRetentionDays,
            tags,
        }, child);
        this.database = new DatabaseInstance(`${name}-db`, {
            identifier: instanceIdentifier(args.stack, tenant.slug, "dedicated"),
            region,
            vpcId: this.network.vpcId,
            subnetIds: this.network.isolatedSubnetIds,
            // The app's security group is added below, once the service exists; until then nothing may connect.
            allowedSecurityGroupIds: [],
            kmsKeyArn: this.key.arn,
            engineVersion: args.engineVersion,
            allowMajorVersionUpgrade: args.allowMajorVersionUpgrade ?? false,
            instanceClass: args.size.dbInstanceClass,
            allocatedStorageGb: args.size.allocatedStorageGb,
            maxAllocatedStorageGb: args.size.maxAllocatedStorageGb,
            multiAz: ha,
            backupRetentionDays: tenant.database.backupRetentionDays,
            automatedBackupsManagedByAwsBackup: args.automatedBackupsManagedByAwsBackup ?? false,
            protect: args.protect,
            retiring,
            databaseName: "app",
            masterUsername: "tenancy_admin",
            logRetentionDays: args.logRetentionDays,
            tags,
        }, child);

        this.roles = new RoleManager(`${name}-roles`, {
            tenant,
            stack: args.stack,
            region,
            vpcId: this.network.vpcId,
            subnetIds: this.network.privateSubnetIds,
            database: {
                instance: this.database.instance,
                address: this.database.address,
                port: this.database.port,
                name: "app",
                securityGroupId: this.database.securityGroupId,
                masterSecretArn: this.database.masterSecretArn,
            },
            kmsKeyArn: this.key.arn,
            logRetentionDays: args.logRetentionDays,
            protect: args.protect,
            tags,
            label: args.label ?? "",
            retiring,
        }, child);

        if (tenant.status === "offboarded") {
            this.registerOutputs({ databaseAddress: this.database.address });
            return;
        }

        const cluster = new aws.ecs.Cluster(`${name}-ecs`, {
            region,
            settings: [{ name: "containerInsights", value: "enabled" }],
            tags,
        }, child);
        this.loadBalancer = new LoadBalancer(`${name}-alb`, {
            vpcId: this.network.vpcId,
            vpcCidr: tenant.network.cidr,
            subnetIds: this.network.publicSubnetIds,
            region,
            domainNames: [certificates.zone!.domainName, ...certificates.zone!.subjectAlternativeNames],
            extraCertificates: certificates.external.map((c) => ({
                key: c.domain,
                domainName: c.domainName,
                subjectAlternativeNames: c.subjectAlternativeNames,
                attach: c.verified,
            })),
            hostedZoneId: args.hostedZoneId,
            zoneDomain: args.domain,
            targetPort: args.containerPort,
            healthCheckPath: args.healthCheckPath,
            maintenance: tenant.status === "suspended",
            logRetentionDays: args.logRetentionDays,
            // Serving side, not data: offboarding removes it, and its access-log bucket is retained. AWS refuses to
            // delete a load balancer with deletion protection on, so it is on only while the tenant is active:
            // suspending turns it off, and offboarding (removal) comes one deploy later. plan:diff flags the shortcut.
            protect: false,
            deletionProtection: protect && tenant.status === "active",
            tags,
        }, child);
        const active = tenant.status === "active";
        this.service = new AppService(`${name}-app`, {
            clusterArn: cluster.arn,
            vpcId: this.network.vpcId,
            vpcCidr: tenant.network.cidr,
            subnetIds: this.network.privateSubnetIds,
            region,
            image: pulumi.interpolate`${args.imageRepositoryUrl}:${tenant.release.version}`,
            cpu: args.size.cpu,
            memory: args.size.memory,
            desiredCount: active ? args.size.minTasks : 0,
            ...(active ? { autoscaling: { min: args.size.minTasks, max: args.size.maxTasks } } : {}),
            containerPort: args.containerPort,
            targetGroupArn: this.loadBalancer.targetGroupArn,
            loadBalancerSecurityGroupId: this.loadBalancer.securityGroupId,
            environment: {
                TENANCY_TENANT: tenant.slug,
                TENANCY_TIER: "dedicated",
                TENANCY_FEATURES: tenant.features.join(","),
                TENANCY_HOSTNAMES: tenant.hostnames.join(","),
                DB_HOST: this.database.address,
                DB_PORT: pulumi.interpolate`${this.database.port}`,
                DB_NAME: "app",
                DB_SCHEMA: this.roles.schemaName,
                PORT: String(args.containerPort),
            },
            // The runtime role's secret, pinned to the applied version: ECS injects it at task start, so a new password
            // must come with new tasks (a new task definition), never behind running ones.
            secrets: { DB_USERNAME: this.roles.runtimeValueFrom("username"), DB_PASSWORD: this.roles.runtimeValueFrom("password") },
            readableSecretArns: [this.roles.runtimeSecretArn],
            kmsKeyArns: [this.key.arn],
            logKmsKeyArn: this.key.arn,
            logRetentionDays: args.logRetentionDays,
            tags,
        }, child);
        new aws.vpc.SecurityGroupIngressRule(`${name}-db-from-app`, {
            region,
            securityGroupId: this.database.securityGroupId,
            referencedSecurityGroupId: this.service.securityGroupId,
            ipProtocol: "tcp",
            fromPort: 5432,
            toPort: 5432,
            description: "PostgreSQL from the tenant app",
            tags,
        }, child);
        const dns = args.dns ?? { declare: true };
        for (const host of dns.declare && !retiring ? dnsNamesInZone(tenant.hostnames, args.domain) : []) {
            new aws.route53.Record(`${name}-dns-${host}`, {
                zoneId: args.hostedZoneId,
                name: host,
                type: "A",
                aliases: [{ name: this.loadBalancer.dnsName, zoneId: this.loadBalancer.zoneId, evaluateTargetHealth: true }],
                ...(dns.allowOverwrite ? { allowOverwrite: true } : {}),
            }, {
                parent: this,
                ...(dns.aliases ? { aliases: dns.aliases(host) } : {}),
                // A move's source: the cutover points these names at the target, which a refresh and up must not undo.
                ...(dns.ignoreAliases ? { ignoreChanges: ["aliases"] } : {}),
            });
        }
        this.registerOutputs({ databaseAddress: this.database.address, loadBalancerDnsName: this.loadBalancer.dnsName });
    }
}
