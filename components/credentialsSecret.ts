import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface CredentialsSecretArgs {
    /** Fixed Secrets Manager name (see naming.ts): what the app and operators look up. */
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
    /** The tenant's schema, for shared tenants. */
    schema?: pulumi.Input<string>;
}

/**
 * PostgreSQL credentials in Secrets Manager: the secret (protected with the data when asked) and its value, kept a
 * Pulumi secret. The secret waits out a 30-day recovery window when deleted.
 */
export function credentialsSecret(name: string, args: CredentialsSecretArgs, opts: { parent: pulumi.Resource; protect: boolean }): aws.secretsmanager.Secret {
    const secret = new aws.secretsmanager.Secret(
        name,
        { name: args.secretName, description: args.description, kmsKeyId: args.kmsKeyId, recoveryWindowInDays: 30, tags: args.tags },
        opts,
    );
    const { secretName: _n, description: _d, kmsKeyId: _k, tags: _t, ...value } = args;
    new aws.secretsmanager.SecretVersion(
        `${name}-version`,
        { secretId: secret.id, secretString: pulumi.secret(pulumi.jsonStringify({ engine: "postgres", ...value })) },
        { parent: opts.parent },
    );
    return secret;
}
