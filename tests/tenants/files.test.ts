import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { formatProblem, RegistryError } from "../../tenants/problems";
import { loadRegistry, MAX_TENANT_FILE_BYTES } from "../../tenants/registry";
import { makeRepo, sharedTenant } from "./fixtures";

/** Builds a test repo, lets `prepare` add what files cannot express, and returns problems and notices, formatted. */
function run(files: Record<string, string>, prepare?: (dir: string) => void | Promise<void>) {
    const root = makeRepo(files);
    const dir = path.join(root, "tenants", "test");
    const finish = () => {
        try {
            const { notices } = loadRegistry({ root, stack: "test" });
            return { problems: [] as string[], notices: notices.map(formatProblem) };
        } catch (e) {
            if (!(e instanceof RegistryError)) throw e;
            return { problems: e.problems.map(formatProblem), notices: e.notices.map(formatProblem) };
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    };
    try {
        prepare?.(dir);
    } catch (e) {
        fs.rmSync(root, { recursive: true, force: true });
        throw e;
    }
    return finish();
}

const problems = (files: Record<string, string>, prepare?: (dir: string) => void) => run(files, prepare).problems;

describe("file-system surprises are problems, never stack traces", () => {
    it("a broken symbolic link", () => {
        expect(problems({}, (dir) => fs.symlinkSync(path.join(dir, "gone.yaml"), path.join(dir, "acme.yaml")))).toEqual([
            "tenants/test/acme.yaml: is a broken symbolic link (it points to a file that does not exist)",
        ]);
    });

    it("a directory named like a tenant file", () => {
        expect(problems({}, (dir) => fs.mkdirSync(path.join(dir, "acme.yaml")))).toEqual([
            "tenants/test/acme.yaml: is a directory, not a tenant file",
        ]);
    });

    it("a socket (or FIFO, device) named like a tenant file is not read", async () => {
        const root = makeRepo({});
        const sock = path.join(root, "tenants", "test", "acme.yaml");
        const server = net.createServer();
        try {
            await new Promise<void>((resolve, reject) => server.once("error", reject).listen(sock, resolve));
            let out: string[] = [];
            try {
                loadRegistry({ root, stack: "test" });
            } catch (e) {
                if (!(e instanceof RegistryError)) throw e;
                out = e.problems.map(formatProblem);
            }
            expect(out).toEqual(["tenants/test/acme.yaml: is not a regular file"]);
        } finally {
            await new Promise<void>((resolve) => server.close(() => resolve()));
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("a file larger than the size limit is not parsed", () => {
        const big = sharedTenant("acme", `# ${"x".repeat(MAX_TENANT_FILE_BYTES)}\n`);
        expect(problems({ "acme.yaml": big })).toEqual([
            `tenants/test/acme.yaml: is ${Buffer.byteLength(big)} bytes; a tenant file may be at most ${MAX_TENANT_FILE_BYTES} bytes`,
        ]);
    });

    it("a file that expands YAML aliases without bound is refused, not expanded", () => {
        const bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n";
        expect(problems({ "acme.yaml": bomb, "beta.yaml": "slug: beta\n" })).toEqual([
            "tenants/test/acme.yaml:1:1: invalid YAML: too many alias expansions (at most 100)",
            "tenants/test/beta.yaml:1:1 displayName: is required",
        ]);
    });

    it("a stack file that is a directory is a problem, not a stack trace", () => {
        const root = makeRepo({});
        try {
            fs.rmSync(path.join(root, "Pulumi.test.yaml"));
            fs.mkdirSync(path.join(root, "Pulumi.test.yaml"));
            let out: string[] = [];
            try {
                loadRegistry({ root, stack: "test" });
            } catch (e) {
                if (!(e instanceof RegistryError)) throw e;
                out = e.problems.map(formatProblem);
            }
            expect(out).toEqual(["Pulumi.test.yaml: is a directory, not a stack configuration file"]);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it.skipIf(process.getuid?.() === 0)("an unreadable file (as root chmod stops nothing: tests/tenants/unreadable.test.ts mocks the read)", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme") }, (dir) => fs.chmodSync(path.join(dir, "acme.yaml"), 0))).toEqual([
            "tenants/test/acme.yaml: cannot be read (EACCES: check its permissions)",
        ]);
    });

    it("a tenant directory that is a file", () => {
        const root = makeRepo({});
        try {
            fs.rmSync(path.join(root, "tenants", "test"), { recursive: true });
            fs.writeFileSync(path.join(root, "tenants", "test"), "");
            expect(() => loadRegistry({ root, stack: "test" })).toThrow(/tenants\/test: is not a directory/);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("ignored files are named in a notice; tenants still load", () => {
        const out = run({ "acme.yaml": sharedTenant("acme"), "beta.YAML": sharedTenant("beta"), "acme.yaml.bak": "x", "README.md": "x" }, (dir) =>
            fs.mkdirSync(path.join(dir, "old")),
        );
        expect(out.problems).toEqual([]);
        expect(out.notices).toEqual([
            "tenants/test: ignored 4 entries that are not tenant files (<slug>.yaml): README.md, acme.yaml.bak, beta.YAML, old/",
        ]);
    });

    it("ignored files are named even when there are problems", () => {
        const out = run({ "acme.yaml": "slug: acme\n", "beta.YAML": sharedTenant("beta") });
        expect(out.problems).toEqual(["tenants/test/acme.yaml:1:1 displayName: is required"]);
        expect(out.notices).toEqual(["tenants/test: ignored 1 entry that is not a tenant file (<slug>.yaml): beta.YAML"]);
    });
});

describe("every problem at once", () => {
    it("a file with a schema error still gets its checks against the stack", () => {
        expect(problems({
            "acme.yaml": "slug: acme-corp\ndisplayName: ''\nfeatures: [sso, nope]\nrelease: {channel: nightly}\ntier: hybrid\nregion: eu-west-1\n",
        })).toEqual([
            "tenants/test/acme.yaml:1:7 slug: 'acme-corp' must equal the file name 'acme'",
            "tenants/test/acme.yaml:2:14 displayName: must not be empty",
            "tenants/test/acme.yaml:3:17 features[1]: 'nope' is not in the feature catalog (allowed: sso, audit-log)",
            "tenants/test/acme.yaml:4:20 release.channel: 'nightly' is not a release channel of stack test (allowed: stable, beta)",
            "tenants/test/acme.yaml:6:9 region: only dedicated tenants choose a region; hybrid tenants run in us-east-1",
        ]);
    });

    it("a file with a schema error still takes part in the checks across files", () => {
        expect(problems({
            "acme.yaml": sharedTenant("acme", "customDomains: [app.shared.com]\n"),
            "beta.yaml": "slug: beta\nsubdomain: acme\ncustomDomains: [app.shared.com]\n",
            "big.yaml": sharedTenant("big", "tier: dedicated\nnetwork: {cidr: 10.50.0.0/16}\n"),
            "huge.yaml": "slug: huge\ndisplayName: 7\ntier: dedicated\nnetwork: {cidr: 10.50.0.0/20}\n",
        })).toEqual([
            "tenants/test/beta.yaml:1:1 displayName: is required",
            "tenants/test/beta.yaml:2:12 subdomain: host name acme.saas.example.com is already used by tenants/test/acme.yaml (slug)",
            "tenants/test/beta.yaml:3:17 customDomains[0]: host name app.shared.com is already used by tenants/test/acme.yaml (customDomains[0])",
            "tenants/test/huge.yaml:2:14 displayName: must be a string (got 7)",
            "tenants/test/huge.yaml:4:17 network.cidr: 10.50.0.0/20 overlaps 10.50.0.0/16 of tenants/test/big.yaml",
        ]);
    });

    it("an invalid tier skips the checks that depend on it, and only those", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "tier: premium\nregion: mars-1\nfeatures: [nope]\nsize: small\n") })).toEqual([
            'tenants/test/acme.yaml:3:7 tier: "premium" is not allowed (allowed: shared, hybrid, dedicated)',
            "tenants/test/acme.yaml:4:9 region: must be an AWS region code such as eu-west-1",
            "tenants/test/acme.yaml:5:12 features[0]: 'nope' is not in the feature catalog (allowed: sso, audit-log)",
        ]);
    });

    it("an error in one nested field keeps its siblings checked", () => {
        expect(problems({ "big.yaml": sharedTenant("big", "tier: dedicated\nnetwork: {cidr: 10.50.0.0/16}\nrelease:\n  channel: nightly\n  version: v2\n") })).toEqual([
            "tenants/test/big.yaml:6:12 release.channel: 'nightly' is not a release channel of stack test (allowed: stable, beta)",
            "tenants/test/big.yaml:7:12 release.version: must be a semantic version such as 2.14.3",
        ]);
    });
});

describe("messages", () => {
    it("a UTF-8 byte-order mark does not shift columns", () => {
        expect(problems({ "acme.yaml": "\uFEFFslug: Acme\ndisplayName: x\n" })).toEqual([
            "tenants/test/acme.yaml:1:7 slug: must start with a letter, end with a letter or digit, and use only a-z, 0-9 and '-'",
        ]);
    });

    it("a mis-indented mapping item points at its own line and column", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "branding:\n  primaryColor: '#ffffff'\n   logoUrl: https://x.example/a.png\n") })).toEqual([
            "tenants/test/acme.yaml:5:4: invalid YAML: bad indentation: all items of a mapping must start at the same column",
        ]);
    });

    it("a line indented under a key that already has a value points at that line", () => {
        expect(problems({ "acme.yaml": "slug: acme\n  displayName: x\n" })).toEqual([
            "tenants/test/acme.yaml:2:3: invalid YAML: bad indentation: this line is indented under 'slug', which already has a value",
        ]);
    });

    it("nested unknown keys get a did-you-mean and the allowed keys", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "branding:\n  primaryColour: '#ffffff'\n") })).toEqual([
            "tenants/test/acme.yaml:4:3 branding.primaryColour: unknown field (did you mean 'primaryColor'?) (allowed: primaryColor, logoUrl)",
        ]);
        expect(problems({ "acme.yaml": sharedTenant("acme", "database:\n  conectionLimit: 5\n") })).toEqual([
            "tenants/test/acme.yaml:4:3 database.conectionLimit: unknown field (did you mean 'connectionLimit'?) (allowed: backupRetentionDays, connectionLimit, statementTimeoutSeconds)",
        ]);
    });

    it.each([["2.5"], ["'20'"], ["true"]])("a whole number field given %s says 'must be a whole number'", (value) => {
        const out = problems({ "acme.yaml": sharedTenant("acme", `database:\n  connectionLimit: ${value}\n`) });
        expect(out).toHaveLength(1);
        expect(out[0]).toMatch(/^tenants\/test\/acme\.yaml:4:20 database\.connectionLimit: must be a whole number \(got .+\)$/);
    });

    it("a missing required field is located at the tenant's mapping, not at 1:1", () => {
        expect(problems({ "acme.yaml": "# yaml-language-server: $schema=../tenant.schema.json\nslug: acme\n" })).toEqual([
            "tenants/test/acme.yaml:2:1 displayName: is required",
        ]);
    });

    it("a key without a value says it is empty rather than 'null'", () => {
        expect(problems({ "acme.yaml": "slug: acme\ndisplayName:\n" })).toEqual([
            "tenants/test/acme.yaml:2:13 displayName: must be a string (got an empty value)",
        ]);
    });

    it("a missing nested field is located at its parent's key", () => {
        expect(problems({ "big.yaml": sharedTenant("big", "tier: dedicated\nnetwork: {}\n") })).toEqual([
            "tenants/test/big.yaml:4:1 network.cidr: is required",
        ]);
    });
});
