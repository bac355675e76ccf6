/**
 * `npm run move -- --env <env>`: the move's two admin connections, its registry flip and its receipt's path, from the
 * environment instead of explicit URLs. The tenant file declares the move (`move: { from: … }`); the stack holding the
 * tenant exports `moves.<slug>` (both placements' endpoints and admin secrets, and the exact writes of the cutover);
 * the admins' passwords come from Secrets Manager (or an IAM token for cells with `adminAuth: iam`), never from a file
 * or the command line. Runs where `pulumi up` runs: the deploy runner, which the program admits to both databases while
 * the move is declared.
 *
 * The AWS and Pulumi calls sit behind {@link EnvironmentServices} so the resolution is tested against fakes; the real
 * services are the AWS SDK v3 clients and the `pulumi` CLI.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { DEFAULT_RDS_CA_BUNDLE, type StackConfig } from "../stacks/config";
import { tenantStackName } from "../model/fleet";
import { loadRegistry, type Tenant } from "../tenants/registry";
import { formatProblem, RegistryError } from "../tenants/problems";
import type { MoveDnsRecord, MoveEndpointOutput, MoveOutput } from "../tenants/moves";
import { MoveError, type Endpoint } from "./types";

export type { MoveDnsRecord, MoveEndpointOutput, MoveOutput } from "../tenants/moves";

/** What the tool needs of AWS and Pulumi. */
export interface EnvironmentServices {
    /** A stack's output by name, secrets shown (`pulumi stack output <name> --json --show-secrets`); undefined when absent. */
    stackOutput(stack: string, name: string): Promise<unknown>;
    /** A Secrets Manager secret's JSON. */
    secretJson(arn: string, region: string): Promise<Record<string, unknown>>;
    /** A 15-minute RDS IAM authentication token. */
    iamToken(endpoint: { host: string; port: number; user: string; region: string }): Promise<string>;
    putParameter(parameter: { name: string; region: string; value: string }): Promise<void>;
    upsertRecords(records: MoveDnsRecord[]): Promise<void>;
}

export interface EnvironmentMove {
    source: Endpoint;
    target: Endpoint;
    /** Inside the write pause: the registry parameter, then the DNS records; returns what it did. */
    flip: () => Promise<string>;
    /** `tenants/<env>/.moves/<slug>.json` (beside the tenant files), the receipt the data-loss guard asks for. */
    receiptPath: string;
    /** The target placement's kind, for the privileges the tool gives the tenant's roles there. */
    targetPlacement: "shared" | "instance";
}

/** The stack holding a tenant's resources: the environment's single stack, or the tenant's own in a fleet. */
export function tenantStack(config: Pick<StackConfig, "stack" | "layout">, slug: string): string {
    return config.layout === "fleet" ? tenantStackName(config.stack, slug) : config.stack;
}

function problemsOf(output: unknown, slug: string, stack: string): string[] {
    const where = `stack ${stack} output moves.${slug}`;
    if (typeof output !== "object" || output === null) return [`${where} is missing: run \`pulumi up\` (or \`npm run fleet -- up\`) with the move declared first`];
    const o = output as Partial<MoveOutput>;
    const problems: string[] = [];
    for (const side of ["from", "to"] as const) {
        const e = o[side];
        if (!e || typeof e.host !== "string" || !e.host || typeof e.port !== "number" || typeof e.database !== "string" || typeof e.adminSecretArn !== "string") {
            problems.push(`${where}.${side}: needs host, port, database and adminSecretArn (deploy with this version of the program)`);
        }
    }
    if (!o.cutover?.parameter?.name || typeof o.cutover.parameter.value !== "string" || !Array.isArray(o.cutover.dns)) {
        problems.push(`${where}.cutover: needs parameter { name, region, value } and dns [] (deploy with this version of the program)`);
    }
    return problems;
}

/** `{ tier, cell?, region }` of the tenant file's current placement and its declared source. */
function samePlacement(a: { tier: string; cell?: string; region?: string }, b: { tier: string; cell?: string; region?: string }): boolean {
    return a.tier === b.tier && (a.tier !== "shared" || a.cell === b.cell) && (a.tier !== "dedicated" || a.region === b.region);
}

/**
 * Resolves a declared move of `tenant` in environment `env` (repository at `root`). Every mistake is a MoveError(1)
 * naming what to do: no such tenant, no move declared, the stack not deployed with the move, the stack's move not the
 * file's (deploy first), an unreadable secret.
 */
export async function resolveEnvironment(
    opts: { root: string; env: string; tenant: string },
    services: EnvironmentServices = awsServices(opts.root),
): Promise<EnvironmentMove> {
    let config: StackConfig;
    let tenants: Tenant[];
    try {
        ({ config, tenants } = loadRegistry({ root: opts.root, stack: opts.env }));
    } catch (err) {
        if (err instanceof RegistryError) throw new MoveError(`environment ${opts.env} does not validate (npm run validate -- --stack ${opts.env})`, 1, err.problems.map(formatProblem));
        throw err;
    }
    const tenant = tenants.find((t) => t.slug === opts.tenant);
    if (!tenant) throw new MoveError(`no tenant '${opts.tenant}' in environment ${opts.env} (${config.tenantsDir})`, 1);
    const move = tenant.move;
    if (!move) {
        throw new MoveError(`tenant ${tenant.slug} declares no move: add \`move: { from: { tier: …, cell: … } }\` to ${tenant.file} (the placement its data is in now), deploy, then run the move`, 1);
    }
    const stack = tenantStack(config, tenant.slug);
    const all = await services.stackOutput(stack, "moves");
    const output = (all && typeof all === "object" ? (all as Record<string, unknown>)[tenant.slug] : undefined) as MoveOutput | undefined;
    const problems = problemsOf(output, tenant.slug, stack);
    if (problems.length) throw new MoveError(`the move of ${tenant.slug} is not deployed`, 1, problems);
    const declared = { from: move.from, to: { tier: tenant.tier, cell: tenant.cell, region: tenant.region } };
    if (!samePlacement(output!.from, declared.from) || !samePlacement(output!.to, declared.to)) {
        throw new MoveError(`stack ${stack} was deployed with another move of ${tenant.slug} (${describe(output!.from)} → ${describe(output!.to)}) than ${tenant.file} declares (${describe(declared.from)} → ${describe(declared.to)}): deploy first`, 1);
    }

    const endpoint = async (side: MoveEndpointOutput): Promise<Endpoint> => {
        const cell = side.tier === "shared" && side.cell ? config.cells[side.cell] : undefined;
        const host = cell?.adminHost ?? side.host;
        const port = cell?.adminPort ?? side.port;
        let user: string;
        let password: string;
        try {
            if (side.iamUser) {
                user = side.iamUser;
                password = await services.iamToken({ host: side.host, port: side.port, user, region: side.region });
            } else {
                const secret = await services.secretJson(side.adminSecretArn, side.region);
                if (typeof secret["username"] !== "string" || typeof secret["password"] !== "string") {
                    throw new Error("the secret has no username and password");
                }
                user = secret["username"];
                password = secret["password"];
            }
        } catch (err) {
            throw new MoveError(`cannot read the admin credentials of ${describe(side)} (${side.adminSecretArn}): ${(err as Error).message}`, 1);
        }
        // Verified TLS, as the program's own PostgreSQL provider connects: the RDS CA bundle on this machine.
        const tls = cell?.adminTls ?? { mode: "verify-full", rootCertPath: DEFAULT_RDS_CA_BUNDLE };
        const url = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(side.database)}` +
            `?sslmode=${tls.mode}&sslrootcert=${encodeURIComponent(tls.rootCertPath)}`;
        return {
            url,
            label: `${host}:${port}/${side.database}`,
            placement: { tier: side.tier, ...(side.cell ? { cell: side.cell } : {}), region: side.region, label: side.label },
        };
    };
    const source = await endpoint(output!.from);
    const target = await endpoint(output!.to);
    const cutover = output!.cutover;
    return {
        source,
        target,
        targetPlacement: output!.to.tier === "shared" ? "shared" : "instance",
        receiptPath: join(opts.root, config.tenantsDir, ".moves", `${tenant.slug}.json`),
        flip: async () => {
            await services.putParameter(cutover.parameter);
            if (cutover.dns.length) await services.upsertRecords(cutover.dns);
            return [`registry ${cutover.parameter.name} → ${describe(output!.to)}`, ...cutover.dns.map((r) => `DNS ${r.name} → ${r.alias.name}`)].join("; ");
        },
    };
}

function describe(p: { tier: string; cell?: string; region?: string }): string {
    return p.tier === "shared" ? `shared (cell ${p.cell ?? "?"})` : p.tier === "dedicated" ? `dedicated (${p.region ?? "?"})` : p.tier;
}

/** The real services: the `pulumi` CLI in the repository, and the AWS SDK v3 with the machine's credentials. */
export function awsServices(root: string): EnvironmentServices {
    return {
        stackOutput: (stack, name) => pulumiStackOutput(root, stack, name),
        secretJson: async (arn, region) => {
            const { SecretsManagerClient, GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
            const client = new SecretsManagerClient({ region });
            const result = await client.send(new GetSecretValueCommand({ SecretId: arn }));
            return JSON.parse(result.SecretString ?? "{}") as Record<string, unknown>;
        },
        iamToken: async ({ host, port, user, region }) => {
            const { Signer } = await import("@aws-sdk/rds-signer");
            return new Signer({ hostname: host, port, username: user, region }).getAuthToken();
        },
        putParameter: async ({ name, region, value }) => {
            const { SSMClient, PutParameterCommand } = await import("@aws-sdk/client-ssm");
            // Overwrite keeps the parameter's type, tier and tags; only the value changes, as the program then declares it.
            await new SSMClient({ region }).send(new PutParameterCommand({ Name: name, Value: value, Overwrite: true }));
        },
        upsertRecords: async (records) => {
            const { Route53Client, ChangeResourceRecordSetsCommand } = await import("@aws-sdk/client-route-53");
            const client = new Route53Client({});
            const byZone = new Map<string, MoveDnsRecord[]>();
            for (const r of records) byZone.set(r.zoneId, [...(byZone.get(r.zoneId) ?? []), r]);
            for (const [zoneId, list] of byZone) {
                // One change batch per zone: Route 53 applies it atomically.
                await client.send(new ChangeResourceRecordSetsCommand({
                    HostedZoneId: zoneId,
                    ChangeBatch: {
                        Comment: "tenancy move cutover",
                        Changes: list.map((r) => ({
                            Action: "UPSERT" as const,
                            ResourceRecordSet: {
                                Name: r.name, Type: r.type,
                                AliasTarget: { DNSName: r.alias.name, HostedZoneId: r.alias.zoneId, EvaluateTargetHealth: r.alias.evaluateTargetHealth },
                            },
                        })),
                    },
                }));
            }
        },
    };
}

/** `pulumi stack output <name> --json --show-secrets --stack <stack>` in the repository; undefined when the output is absent. */
export function pulumiStackOutput(root: string, stack: string, name: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
        const child = spawn("pulumi", ["stack", "output", name, "--json", "--show-secrets", "--stack", stack], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.once("error", (e) => reject(new MoveError(`cannot run the pulumi CLI (${e.message}): npm run move -- --env runs where pulumi up runs`, 1)));
        child.once("close", (code) => {
            if (code !== 0) {
                if (/does not have output|not found|does not exist/i.test(err)) return resolve(undefined);
                return reject(new MoveError(`pulumi stack output ${name} --stack ${stack} failed: ${err.trim().split("\n").pop() ?? `exit ${code}`}`, 1));
            }
            try {
                resolve(JSON.parse(out));
            } catch {
                reject(new MoveError(`pulumi stack output ${name} --stack ${stack} printed no JSON`, 1));
            }
        });
    });
}
