import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Tenant } from "../tenants/registry";
import { credentialsSecretWithVersion } from "./credentialsSecret";
import { secretRecoveryWindowDays, tenantOwnerRoleName, tenantRuntimeRoleName, tenantSchemaName, tenantSecretName } from "./naming";
import { configSha256, ROLE_MANAGER_ENV, type RoleManagerConfig, type RoleManagerEvent } from "./roleManager/contract";

/** The role manager's Lambda code: handler.ts bundled with pg (`npm run build:role-manager`), relative to the project. */
export const ROLE_MANAGER_BUNDLE = "components/roleManager/dist/index.js";
/** Lambda runtime of the function (supported into 2028); it ships the AWS SDK v3 the handler uses and the RDS CA bundle. */
export const ROLE_MANAGER_RUNTIME = "nodejs24.x";
/** The Lambda runtime's CA bundle, which includes the RDS certificate authorities (TLS is verified, not only required). */
export const LAMBDA_CA_BUNDLE = "/var/runtime/ca-cert.pem";

/**
 * The bundle's path for a FileAsset, relative to the working directory Pulumi runs the program in (the project root,
 * where it is ROLE_MANAGER_BUNDLE): never absolute, so plans from two checkouts do not differ by it.
 */
export function roleManagerBundlePath(cwd = process.cwd()): string {
    return path.relative(cwd, path.join(__dirname, "roleManager", "dist", "index.js"));
}

export interface RoleManagerArgs {
    /** The hybrid or dedicated tenant: its slug names the schema, roles and secrets; its status decides LOGIN. */
    tenant: Pick<Tenant, "slug" | "status">;
    /** Stack name, part of the secrets' names. */
    stack: string;
    /** AWS v7 per-resource region of every regional child: the database's. Defaults to the provider's region. */
    region?: string;
    /** VPC of the database. */
    vpcId: pulumi.Input<string>;
    /**
     * Private subnets of that VPC (NAT egress): the function reaches Secrets Manager's regional endpoint through the
     * NAT, as the app tasks do, and the database inside the VPC. At least two, for the function's availability.
     * (Networks have no interface endpoints; one for Secrets Manager per tenant VPC and AZ would cost more than the
     * function, which runs only during deploys.)
     */
    subnetIds: pulumi.Input<string>[];
    /** The instance whose roles are managed. */
    database: {
        /** The RDS instance: the SQL runs once it is available. */
        instance: pulumi.Resource;
        address: pulumi.Input<string>;
        port: pulumi.Input<number>;
        /** The database created with the instance. */
        name: string;
        /** The instance's security group: it admits the function on 5432. */
        securityGroupId: pulumi.Input<string>;
        /** The RDS-managed master secret: only this function may read it. */
        masterSecretArn: pulumi.Input<string>;
    };
    /** The tenant's KMS key: it encrypts the master secret, the two role secrets and the function's logs. */
    kmsKeyArn: pulumi.Input<string>;
    /** Retention of the function's log group, in days. */
    logRetentionDays: number;
    /** Protect the role passwords and secrets (they belong with the data). */
    protect: boolean;
    /** Tags of every taggable child; the caller includes the tenant's ownership tags. */
    tags: Record<string, string>;
    /** The placement's label (tenants/moves.ts), part of the secrets' names: "" for a tenant that never moved. Defaults to "". */
    label?: string;
    /**
     * The instance is a finished move's source (its verified receipt is committed): the roles lose LOGIN (as for a
     * suspended tenant) and the passwords and secrets are not protected in Pulumi; the secrets keep the stack's recovery
     * window. Defaults to false.
     */
    retiring?: boolean;
}

/**
 * The application roles of a hybrid or dedicated tenant's own PostgreSQL instance, managed from inside the tenant's
 * network: the deploy cannot reach a database in another VPC or region, and opening a path from outside is not an
 * option. A small Lambda function in the database's VPC reads the RDS-managed master secret (nothing else may) and
 * applies idempotent SQL (roleManager/handler.ts): schema `t_<slug>` owned by `t_<slug>_owner` (migrations), runtime
 * role `t_<slug>_app` with data access only, each with its own secret. The target (endpoint, database) and the
 * role and secret names are the function's environment; `aws.lambda.Invocation` runs it during the deploy with only
 * the status (and re-run triggers) as input, so whoever may invoke it cannot point it, or the master password,
 * elsewhere. A changed status, password, handler or configuration replaces the invocation, which runs the function
 * again. Suspended and offboarded tenants' roles lose LOGIN and their sessions.
 *
 * Passwords come from `random` and are never rotated behind the apps' backs: ECS injects secrets at task start, so a
 * new password reaches tasks only through a deployment, and {@link runtimeValueFrom} pins the secret version for that.
 */
export class RoleManager extends pulumi.ComponentResource {
    readonly schemaName: string;
    readonly ownerRoleName: string;
    readonly runtimeRoleName: string;
    /** The invocation that applied the roles; whatever logs in with them must come after it. */
    readonly invocation: aws.lambda.Invocation;
    /** Secret `tenancy/<stack>/<slug>/db-runtime` (JSON engine, host, port, dbname, username, password, schema), once applied. */
    readonly runtimeSecretArn: pulumi.Output<string>;
    /** Secret `tenancy/<stack>/<slug>/db-owner`, same shape, for migrations, once applied. */
    readonly ownerSecretArn: pulumi.Output<string>;
    /** The function's security group. */
    readonly securityGroupId: pulumi.Output<string>;
    readonly functionName: pulumi.Output<string>;
    private readonly runtimeVersionId: pulumi.Output<string>;

    constructor(name: string, args: RoleManagerArgs, opts?: pulumi.ComponentResourceOptions) {
        if (args.subnetIds.length < 2) throw new Error(`RoleManager ${name}: subnetIds: needs private subnets in at least two availability zones`);
        super("tenancy:database:RoleManager", name, {}, opts);
        const { tenant, region, tags, database } = args;
        const child = { parent: this };
        const retiring = args.retiring ?? false;
        const stateful = { parent: this, protect: args.protect && !retiring };
        const regional = region ? { region } : {};
        const effectiveRegion = region ?? aws.getRegionOutput({}, child).region;
        const account = aws.getCallerIdentityOutput({}, child).accountId;
        const partition = aws.getPartitionOutput({}, child).partition;

        this.schemaName = tenantSchemaName(tenant.slug);
        this.ownerRoleName = tenantOwnerRoleName(tenant.slug);
        this.runtimeRoleName = tenantRuntimeRoleName(tenant.slug);

        const credentials = (purpose: "db-owner" | "db-runtime", username: string) => {
            const password = new random.RandomPassword(`${name}-${purpose}-password`, { length: 40, special: false }, stateful);
            return credentialsSecretWithVersion(`${name}-${purpose}`, {
                secretName: tenantSecretName(args.stack, tenant.slug, purpose, args.label),
                description: `${purpose === "db-runtime" ? "Runtime" : "Migration (schema owner)"} credentials of tenant ${tenant.slug} on its own instance`,
                kmsKeyId: args.kmsKeyArn,
                tags,
                host: database.address,
                port: database.port,
                dbname: database.name,
                username,
                password: password.result,
                schema: this.schemaName,
                region,
            }, { ...stateful, recoveryWindowInDays: secretRecoveryWindowDays(args.protect) });
        };
        const owner = credentials("db-owner", this.ownerRoleName);
        const runtime = credentials("db-runtime", this.runtimeRoleName);

        // --- Network: out to PostgreSQL (the instance's group only) and HTTPS (Secrets Manager via NAT); nothing in.
        const sg = new aws.ec2.SecurityGroup(`${name}-sg`, {
            vpcId: args.vpcId,
            description: `Role manager of ${tenant.slug}: PostgreSQL to its instance, HTTPS to AWS APIs`,
            ...regional,
            tags: { ...tags, Name: `${name}-role-manager` },
        }, child);
        const rules = [
            new aws.vpc.SecurityGroupEgressRule(`${name}-out-postgres`, {
                securityGroupId: sg.id, referencedSecurityGroupId: database.securityGroupId, ipProtocol: "tcp", fromPort: 5432, toPort: 5432,
                description: "PostgreSQL to the tenant instance", ...regional, tags,
            }, child),
            new aws.vpc.SecurityGroupEgressRule(`${name}-out-https`, {
                securityGroupId: sg.id, cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 443, toPort: 443,
                description: "Secrets Manager through the NAT gateway", ...regional, tags,
            }, child),
            new aws.vpc.SecurityGroupIngressRule(`${name}-db-in`, {
                securityGroupId: database.securityGroupId, referencedSecurityGroupId: sg.id, ipProtocol: "tcp", fromPort: 5432, toPort: 5432,
                description: "PostgreSQL from the tenant role manager", ...regional, tags,
            }, child),
        ];

        // --- Identity: only Lambda of this account; reads exactly three secrets, decrypts them through Secrets Manager.
        const role = new aws.iam.Role(`${name}-role`, {
            description: `Manages the database roles of tenant ${tenant.slug}`,
            assumeRolePolicy: aws.iam.getPolicyDocumentOutput({
                statements: [{
                    actions: ["sts:AssumeRole"],
                    principals: [{ type: "Service", identifiers: ["lambda.amazonaws.com"] }],
                    conditions: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [account] }],
                }],
            }, child).json,
            tags,
        }, child);
        const vpcAccess = new aws.iam.RolePolicyAttachment(`${name}-vpc-access`, {
            role: role.name,
            // Network interfaces in the VPC and writing its own logs.
            policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole`,
        }, child);
        const secretsPolicy = new aws.iam.RolePolicy(`${name}-secrets`, {
            role: role.id,
            policy: aws.iam.getPolicyDocumentOutput({
                statements: [
                    { sid: "ReadMasterAndRoleSecrets", actions: ["secretsmanager:GetSecretValue"], resources: [database.masterSecretArn, owner.secret.arn, runtime.secret.arn] },
                    {
                        sid: "DecryptThemThroughSecretsManager",
                        actions: ["kms:Decrypt"],
                        resources: [args.kmsKeyArn],
                        conditions: [{ test: "StringEquals", variable: "kms:ViaService", values: [pulumi.interpolate`secretsmanager.${effectiveRegion}.amazonaws.com`] }],
                    },
                ],
            }, child).json,
        }, child);

        const logs = new aws.cloudwatch.LogGroup(`${name}-logs`, {
            kmsKeyId: args.kmsKeyArn,
            retentionInDays: args.logRetentionDays,
            ...regional,
            tags,
        }, child);
        // Where the function connects and what it manages: configuration, not input, so an invoker cannot change it.
        const config: { [K in keyof RoleManagerConfig]: pulumi.Input<string> } = {
            host: database.address,
            port: pulumi.output(database.port).apply(String),
            database: database.name,
            schema: this.schemaName,
            ownerRole: this.ownerRoleName,
            runtimeRole: this.runtimeRoleName,
            masterSecretArn: database.masterSecretArn,
            ownerSecretArn: owner.secret.arn,
            runtimeSecretArn: runtime.secret.arn,
        };
        const variables: Record<string, pulumi.Input<string>> = { NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE };
        for (const key of Object.keys(config) as (keyof RoleManagerConfig)[]) variables[ROLE_MANAGER_ENV[key]] = config[key];
        const fn = new aws.lambda.Function(`${name}-fn`, {
            description: `Applies the database roles of tenant ${tenant.slug} from inside its VPC`,
            runtime: ROLE_MANAGER_RUNTIME,
            architectures: ["arm64"],
            handler: "index.handler",
            code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.FileAsset(roleManagerBundlePath()) }),
            role: role.arn,
            timeout: 120,
            memorySize: 256,
            vpcConfig: { subnetIds: args.subnetIds, securityGroupIds: [sg.id] },
            environment: { variables },
            loggingConfig: { logFormat: "JSON", logGroup: logs.name },
            ...regional,
            tags,
        // Creating a function in a VPC needs the network-interface permissions already attached.
        }, { parent: this, dependsOn: [vpcAccess, secretsPolicy] });

        // Only what varies per run. The handler does not read the rest: a new password, new code or a new configuration
        // changes the input, which re-runs the function.
        const event: { [K in keyof RoleManagerEvent]-?: pulumi.Input<RoleManagerEvent[K]> } = {
            // A retiring source's roles lose LOGIN and their sessions, as a suspended tenant's do.
            status: retiring ? "suspended" : tenant.status,
            secretVersions: pulumi.output({ owner: owner.version.versionId, runtime: runtime.version.versionId }),
            handlerSha256: fn.codeSha256,
            configSha256: pulumi.all(variables).apply(configSha256),
        };
        this.invocation = new aws.lambda.Invocation(`${name}-apply`, {
            functionName: fn.name,
            input: pulumi.jsonStringify(event),
            ...regional,
        }, { parent: this, dependsOn: [database.instance, ...rules, owner.version, runtime.version, secretsPolicy] });

        // Read through the invocation, so whoever uses these (tasks, the registry) comes after the roles exist.
        const applied = (value: pulumi.Output<string>): pulumi.Output<string> => pulumi.all([this.invocation.id, value]).apply(([, v]) => v);
        this.runtimeSecretArn = applied(runtime.secret.arn);
        this.ownerSecretArn = applied(owner.secret.arn);
        this.runtimeVersionId = applied(runtime.version.versionId);
        this.securityGroupId = sg.id;
        this.functionName = fn.name;
        this.registerOutputs({
            runtimeSecretArn: this.runtimeSecretArn,
            ownerSecretArn: this.ownerSecretArn,
            securityGroupId: this.securityGroupId,
            functionName: this.functionName,
        });
    }

    /**
     * ECS `valueFrom` of one key of the runtime secret, pinned to the version the role manager applied: a new password
     * changes the task definition, so ECS replaces the tasks (new ones start with the new value) instead of leaving
     * running tasks with a password the database no longer accepts once they reconnect.
     */
    runtimeValueFrom(key: "username" | "password"): pulumi.Output<string> {
        return pulumi.interpolate`${this.runtimeSecretArn}:${key}::${this.runtimeVersionId}`;
    }
}
