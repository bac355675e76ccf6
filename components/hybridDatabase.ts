import * as pulumi from "@pulumi/pulumi";
import type { SizePreset } from "../stacks/config";
import type { Tenant } from "../tenants/registry";
import { DatabaseInstance, DatabaseInstanceArgs, databaseInstanceProblems } from "./databaseInstance";
import { EncryptionKey } from "./encryptionKey";
import { RoleManager } from "./roleManager";
import { instanceIdentifier } from "./naming";

/** Database created in every hybrid tenant's instance; the shared app connects to it. */
export const HYBRID_DATABASE_NAME = "app";
/** Master user of a hybrid tenant's instance; RDS manages its password. */
export const HYBRID_MASTER_USERNAME = "tenancy_admin";

/** `tenancy-<stack>-hybrid-<slug>`: the RDS identifier of a hybrid tenant's instance (see naming.ts). */
export function hybridInstanceIdentifier(stack: string, slug: string): string {
    return instanceIdentifier(stack, slug, "hybrid");
}

/** The instance of a hybrid tenant, encrypted with `kmsKeyArn`. */
export function hybridInstanceArgs(args: HybridDatabaseArgs, kmsKeyArn: pulumi.Input<string>): DatabaseInstanceArgs {
    return {
        identifier: hybridInstanceIdentifier(args.stack, args.tenant.slug),
        vpcId: args.vpcId,
        subnetIds: args.isolatedSubnetIds,
        allowedSecurityGroupIds: [args.appSecurityGroupId],
        kmsKeyArn,
        engineVersion: args.engineVersion,
        allowMajorVersionUpgrade: args.allowMajorVersionUpgrade ?? false,
        instanceClass: args.size.dbInstanceClass,
        allocatedStorageGb: args.size.allocatedStorageGb,
        maxAllocatedStorageGb: args.size.maxAllocatedStorageGb,
        multiAz: args.multiAz,
        backupRetentionDays: args.tenant.database.backupRetentionDays,
        automatedBackupsManagedByAwsBackup: args.automatedBackupsManagedByAwsBackup ?? false,
        protect: args.protect,
        databaseName: HYBRID_DATABASE_NAME,
        masterUsername: HYBRID_MASTER_USERNAME,
        logRetentionDays: args.logRetentionDays,
        tags: args.tags,
        retiring: args.retiring ?? false,
    };
}

export interface HybridDatabaseArgs {
    /** The hybrid tenant: its slug names the instance, `database.backupRetentionDays` sets the backups. */
    tenant: Tenant;
    /** Stack name, part of the instance identifier. */
    stack: string;
    /** Size preset of the tenant (instance class and storage). */
    size: SizePreset;
    /** PostgreSQL version, e.g. "16.6" (see DatabaseInstanceArgs.engineVersion). */
    engineVersion: string;
    /** Let a new major `engineVersion` reach the instance (see DatabaseInstanceArgs). Defaults to false. */
    allowMajorVersionUpgrade?: boolean;
    /** The shared VPC. */
    vpcId: pulumi.Input<string>;
    /** Isolated subnets of the shared VPC, in at least two availability zones. */
    isolatedSubnetIds: pulumi.Input<string>[];
    /** Private subnets of the shared VPC (NAT egress), where the role manager function runs. */
    privateSubnetIds: pulumi.Input<string>[];
    /** Security group of the shared app's tasks: the only client allowed on 5432. */
    appSecurityGroupId: pulumi.Input<string>;
    /** Standby in a second availability zone. */
    multiAz: boolean;
    /** AWS Backup's continuous backup manages the instance's automated backups (see DatabaseInstanceArgs). Defaults to false. */
    automatedBackupsManagedByAwsBackup?: boolean;
    /** Protect the key, the instance and its logs (see DatabaseInstanceArgs.protect). */
    protect: boolean;
    /** Retention of the instance's log groups, in days. */
    logRetentionDays: number;
    /** Tags of every taggable child; the caller includes the tenant's ownership tags. */
    tags: Record<string, string>;
    /** The placement's label (tenants/moves.ts), part of the secrets' names. Defaults to "". */
    label?: string;
    /**
     * The instance is a finished move's source (its verified receipt is committed): roles NOLOGIN, nothing protected in
     * Pulumi, no deletion protection; the final snapshot, retained backups and the key (retained on delete) stay. Defaults to false.
     */
    retiring?: boolean;
}

/**
 * A hybrid tenant's own PostgreSQL instance inside the shared platform: its own KMS key, its own instance in the shared
 * VPC's isolated subnets, reachable only from the shared app and the tenant's role manager. The shared app logs in as
 * the runtime role `t_<slug>_app` (data only); the RDS-managed master secret is read by the role manager alone.
 */
export class HybridDatabase extends pulumi.ComponentResource {
    readonly key: EncryptionKey;
    readonly database: DatabaseInstance;
    readonly roles: RoleManager;
    readonly keyArn: pulumi.Output<string>;
    readonly address: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    readonly databaseName: pulumi.Output<string>;
    /** The runtime role's secret `tenancy/<stack>/<slug>/db-runtime` (JSON with host, port, dbname, username, password, schema). */
    readonly credentialsSecretArn: pulumi.Output<string>;
    /** The owner (migration) role's secret `tenancy/<stack>/<slug>/db-owner`. */
    readonly ownerSecretArn: pulumi.Output<string>;
    /** Schema of the tenant's data in its database, `t_<slug>`. */
    readonly schemaName: string;
    readonly instanceArn: pulumi.Output<string>;

    constructor(name: string, args: HybridDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        const { tenant } = args;
        if (tenant.tier !== "hybrid") {
            throw new Error(`HybridDatabase ${name}: tenant '${tenant.slug}' is ${tenant.tier} (allowed: hybrid)`);
        }
        // Checked before the key exists, so a bad tenant never leaves a stray key behind.
        const problems = databaseInstanceProblems(hybridInstanceArgs(args, ""));
        if (args.privateSubnetIds.length < 2) problems.push("privateSubnetIds: the role manager needs private subnets in at least two availability zones");
        if (problems.length) throw new Error(`HybridDatabase ${name} (${tenant.file}): ${problems.join("; ")}`);
        super("tenancy:tenant:HybridDatabase", name, {}, opts);

        this.key = new EncryptionKey(
            `${name}-key`,
            { description: `tenancy ${args.stack}: database of hybrid tenant ${tenant.slug}`, tags: args.tags, protect: args.protect && !args.retiring },
            { parent: this },
        );
        this.database = new DatabaseInstance(`${name}-db`, hybridInstanceArgs(args, this.key.arn), { parent: this });
        this.roles = new RoleManager(`${name}-roles`, {
            tenant,
            stack: args.stack,
            vpcId: args.vpcId,
            subnetIds: args.privateSubnetIds,
            database: {
                instance: this.database.instance,
                address: this.database.address,
                port: this.database.port,
                name: HYBRID_DATABASE_NAME,
                securityGroupId: this.database.securityGroupId,
                masterSecretArn: this.database.masterSecretArn,
            },
            kmsKeyArn: this.key.arn,
            logRetentionDays: args.logRetentionDays,
            protect: args.protect,
            tags: args.tags,
            label: args.label ?? "",
            retiring: args.retiring ?? false,
        }, { parent: this });

        this.keyArn = this.key.arn;
        this.address = this.database.address;
        this.port = this.database.port;
        this.databaseName = this.database.instance.dbName;
        this.credentialsSecretArn = this.roles.runtimeSecretArn;
        this.ownerSecretArn = this.roles.ownerSecretArn;
        this.schemaName = this.roles.schemaName;
        this.instanceArn = this.database.instance.arn;
        this.registerOutputs({
            keyArn: this.keyArn,
            address: this.address,
            port: this.port,
            databaseName: this.databaseName,
            credentialsSecretArn: this.credentialsSecretArn,
            ownerSecretArn: this.ownerSecretArn,
            instanceArn: this.instanceArn,
        });
    }
}
