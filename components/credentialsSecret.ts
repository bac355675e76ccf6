import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { secretRecoveryWindowDays } from "./naming";

export interface CredentialsSecretArgs {
    /**
     * Name stem (see naming.ts `tenantSecretName`), used as the secret's `namePrefix`: AWS appends `-<unique>`, so a
     * re-created secret never collides with a deleted one in its recovery window. Consumers use the ARN, not the name.
     */
    secretName: string;
    description: string;
    /** Customer-managed key encrypting the secret. */
    kmsKeyId: pulumi.Input<string>;
    tags: Record<string, string>;
    /** Connection coordinates and login, stored as the JSON shape RDS-managed secrets use. */
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    dbname: pulumi.Input<string>;
    username: pulumi.Input<string>;
    password: pulumi.Input<string>;
    /** The tenant's schema. */
    schema?: pulumi.Input<string>;
    /** AWS v7 per-resource region (a dedicated tenant's). Defaults to the provider's region. */
    region?: string;
}

/**
 * PostgreSQL credentials in Secrets Manager: the secret (protected with the data when asked) and its value, kept a
 * Pulumi secret. When deleted, a protected secret waits out a 30-day recovery window; an unprotected one goes at once.
 */
/** Options of {@link credentialsSecret}: `aliases` gives each child (by its logical name) its former identities. */
export interface CredentialsSecretOptions {
    parent: pulumi.Resource;
    protect: boolean;
    aliases?: (logicalName: string) => pulumi.Input<pulumi.Alias>[];
    /** Days a deleted secret can be restored. Defaults to {@link secretRecoveryWindowDays} of `protect`. */
    recoveryWindowInDays?: number;
}

export function credentialsSecret(name: string, args: CredentialsSecretArgs, opts: CredentialsSecretOptions): aws.secretsmanager.Secret {
    return credentialsSecretWithVersion(name, args, opts).secret;
}

/** {@link credentialsSecret}, also returning the value's version (to pin what tasks inject, or to order after it). */
export function credentialsSecretWithVersion(
    name: string,
    args: CredentialsSecretArgs,
    opts: CredentialsSecretOptions,
): { secret: aws.secretsmanager.Secret; version: aws.secretsmanager.SecretVersion } {
    const { secretName: _n, description: _d, kmsKeyId: _k, tags: _t, region, ...value } = args;
    const secret = new aws.secretsmanager.Secret(
        name,
        {
            namePrefix: `${args.secretName}-`,
            description: args.description,
            kmsKeyId: args.kmsKeyId,
            recoveryWindowInDays: opts.recoveryWindowInDays ?? secretRecoveryWindowDays(opts.protect),
            tags: args.tags,
            ...(region ? { region } : {}),
        },
        { parent: opts.parent, protect: opts.protect, aliases: opts.aliases?.(name) },
    );
    const version = new aws.secretsmanager.SecretVersion(
        `${name}-version`,
        { secretId: secret.id, secretString: pulumi.secret(pulumi.jsonStringify({ engine: "postgres", ...value })), ...(region ? { region } : {}) },
        { parent: opts.parent, aliases: opts.aliases?.(`${name}-version`) },
    );
    return { secret, version };
}
