import * as fs from "fs";
import * as path from "path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveEnvironment, type EnvironmentServices, type MoveOutput } from "../../move/environment";
import { MoveError } from "../../move/types";
import { fixtureRepo, type FixtureRepo } from "../support/fixtureRepo";

// `npm run move -- --env`: everything comes from the tenant file, the stack's `moves` output and Secrets Manager; the
// AWS and Pulumi calls are fakes that record what the tool asked for.

const MOVING = `slug: wonka
displayName: Wonka Industries
tier: dedicated
size: small
network:
  cidr: 10.42.0.0/16
move:
  from:
    tier: shared
    cell: main
`;

function output(over: Partial<MoveOutput> = {}): MoveOutput {
    return {
        from: { tier: "shared", cell: "main", region: "us-east-1", label: "", host: "cell-main.cluster-x.us-east-1.rds.amazonaws.com", port: 5432, database: "tenancy", adminSecretArn: "arn:aws:secretsmanager:us-east-1:1:secret:cell" },
        to: { tier: "dedicated", region: "us-east-1", label: "dedicated", host: "wonka.y.us-east-1.rds.amazonaws.com", port: 5432, database: "app", adminSecretArn: "arn:aws:secretsmanager:us-east-1:1:secret:rds!db-1" },
        cutover: {
            parameter: { name: "/tenancy/dev/tenants/wonka", region: "us-east-1", value: "{\"slug\":\"wonka\"}" },
            dns: [{ zoneId: "Z0DEV0EXAMPLE0ZONE01", name: "wonka.dev.tenancy-example.com", type: "A", alias: { name: "wonka-alb.elb.amazonaws.com", zoneId: "Z35SXDOTRQ7X7K", evaluateTargetHealth: true } }],
        },
        runnerPolicy: "{}",
        ...over,
    };
}

interface Calls { outputs: string[]; secrets: string[]; puts: unknown[]; dns: unknown[] }

function fakes(moves: unknown, secrets: Record<string, Record<string, unknown>>): { services: EnvironmentServices; calls: Calls } {
    const calls: Calls = { outputs: [], secrets: [], puts: [], dns: [] };
    return {
        calls,
        services: {
            stackOutput: async (stack, name) => {
                calls.outputs.push(`${stack}:${name}`);
                return moves;
            },
            secretJson: async (arn, region) => {
                calls.secrets.push(`${region}:${arn}`);
                const s = secrets[arn];
                if (!s) throw new Error("ResourceNotFoundException: Secrets Manager can't find the specified secret");
                return s;
            },
            iamToken: async ({ user }) => `token-for-${user}`,
            putParameter: async (p) => void calls.puts.push(p),
            upsertRecords: async (r) => void calls.dns.push(...r),
        },
    };
}

const SECRETS = {
    "arn:aws:secretsmanager:us-east-1:1:secret:cell": { username: "tenancy_admin", password: "p@ss/word:1" },
    "arn:aws:secretsmanager:us-east-1:1:secret:rds!db-1": { username: "tenancy_admin", password: "other" },
};

describe("npm run move -- --env: the move from the environment", () => {
    let repo: FixtureRepo | undefined;
    afterEach(() => repo?.remove());

    function withTenant(file: string, stackPatch?: (s: string) => string): string {
        repo = fixtureRepo();
        fs.writeFileSync(path.join(repo.root, "tenants", "dev", "wonka.yaml"), file);
        if (stackPatch) {
            const p = path.join(repo.root, "Pulumi.dev.yaml");
            fs.writeFileSync(p, stackPatch(fs.readFileSync(p, "utf8")));
        }
        return repo.root;
    }

    it("gives both admin URLs with the secrets' credentials and verified TLS, the receipt's path, and a flip that writes the registry then DNS", async () => {
        const root = withTenant(MOVING);
        const { services, calls } = fakes({ wonka: output() }, SECRETS);
        const move = await resolveEnvironment({ root, env: "dev", tenant: "wonka" }, services);
        expect(calls.outputs).toEqual(["dev:moves"]);
        expect(move.source.url).toBe("postgres://tenancy_admin:p%40ss%2Fword%3A1@cell-main.cluster-x.us-east-1.rds.amazonaws.com:5432/tenancy?sslmode=verify-full&sslrootcert=%2Ftmp%2Frds-global-bundle.pem");
        expect(move.source.label).toBe("cell-main.cluster-x.us-east-1.rds.amazonaws.com:5432/tenancy");
        expect(move.source.placement).toEqual({ tier: "shared", cell: "main", region: "us-east-1", label: "" });
        expect(move.target.url).toMatch(/^postgres:\/\/tenancy_admin:other@wonka\.y\.us-east-1\.rds\.amazonaws\.com:5432\/app\?sslmode=verify-full/);
        expect(move.target.placement).toEqual({ tier: "dedicated", region: "us-east-1", label: "dedicated" });
        expect(move.targetPlacement).toBe("instance");
        expect(move.receiptPath).toBe(path.join(root, "tenants/dev/.moves/wonka.json"));
        // Nothing is written before the cutover asks for it.
        expect(calls.puts).toEqual([]);
        const did = await move.flip();
        expect(calls.puts).toEqual([output().cutover.parameter]);
        expect(calls.dns).toEqual(output().cutover.dns);
        expect(did).toContain("/tenancy/dev/tenants/wonka");
        // No password in anything the tool prints or stores.
        expect(JSON.stringify([move.source.label, move.target.label, move.source.placement, move.target.placement, did])).not.toMatch(/p@ss|other/);
    });

    it("reads a fleet tenant's own stack, and an IAM token for a cell with adminAuth iam", async () => {
        const root = withTenant(MOVING, (s) => s.replace("config:\n", "config:\n  tenancy:layout: fleet\n"));
        const iam = output({ from: { ...output().from, iamUser: "tenancy_admin" } });
        const { services, calls } = fakes({ wonka: iam }, SECRETS);
        const move = await resolveEnvironment({ root, env: "dev", tenant: "wonka" }, services);
        expect(calls.outputs).toEqual(["dev.wonka:moves"]);
        expect(move.source.url).toContain("tenancy_admin:token-for-tenancy_admin@");
        expect(calls.secrets).toEqual(["us-east-1:arn:aws:secretsmanager:us-east-1:1:secret:rds!db-1"]);
    });

    it("refuses, exit 1 and nothing written, when the file declares no move, the stack lacks it, or the stack's move is another", async () => {
        const noMove = withTenant(MOVING.replace(/move:[\s\S]*$/, ""));
        const run = (root: string, moves: unknown) => resolveEnvironment({ root, env: "dev", tenant: "wonka" }, fakes(moves, SECRETS).services);
        await expect(run(noMove, {})).rejects.toThrow(/declares no move: add `move: \{ from:/);
        repo!.remove();

        const root = withTenant(MOVING);
        const err = await run(root, undefined).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(MoveError);
        expect((err as MoveError).exitCode).toBe(1);
        expect((err as MoveError).problems.join("\n")).toMatch(/stack dev output moves\.wonka is missing: run `pulumi up`/);

        await expect(run(root, { wonka: output({ from: { ...output().from, cell: "b" } }) })).rejects.toThrow(/deployed with another move of wonka \(shared \(cell b\) → dedicated \(us-east-1\)\) than tenants\/dev\/wonka\.yaml declares \(shared \(cell main\) → dedicated \(us-east-1\)\): deploy first/);
        await expect(run(root, { wonka: { ...output(), to: { host: "" } } })).rejects.toThrow(/not deployed/);
        await expect(resolveEnvironment({ root, env: "dev", tenant: "nobody" }, fakes({}, SECRETS).services)).rejects.toThrow(/no tenant 'nobody' in environment dev/);
    });

    it("an unreadable admin secret is a clear error naming the placement and the secret", async () => {
        const root = withTenant(MOVING);
        const { services } = fakes({ wonka: output() }, { "arn:aws:secretsmanager:us-east-1:1:secret:cell": { username: "x" } });
        await expect(resolveEnvironment({ root, env: "dev", tenant: "wonka" }, services)).rejects.toThrow(/cannot read the admin credentials of shared \(cell main\) \(arn:aws:secretsmanager:us-east-1:1:secret:cell\): the secret has no username and password/);
    });
});
