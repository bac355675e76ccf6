/**
 * Mocked provider functions (invokes). Only a known list is implemented: anything
 * else throws `Mock not implemented: <token>`, so a test never silently runs
 * against a made-up answer.
 */
import { MOCK_ACCOUNT_ID, hexHash } from "./ids";
import { zoneIdPrefix } from "./mockResources";

/** What an invoke mock sees. */
export interface InvokeMockContext {
  token: string;
  /** Plain arguments (secrets unwrapped). */
  args: Record<string, unknown>;
  /** Effective region: the `region` argument, else the invoke's provider's, else `aws:region` config, else us-east-1. */
  region: string;
  /** Provider reference (`urn::id`) the invoke was sent to, or "" for the default provider. */
  provider: string;
}

export type InvokeMock = (ctx: InvokeMockContext) => Record<string, unknown>;

/** ELB/ALB log-delivery account per region, as published by AWS. */
const ELB_SERVICE_ACCOUNTS: Record<string, string> = {
  "us-east-1": "127311923021",
  "us-east-2": "033677994240",
  "us-west-1": "027434742980",
  "us-west-2": "797873946194",
  "ca-central-1": "985666609251",
  "eu-west-1": "156460612806",
  "eu-west-2": "652711504416",
  "eu-west-3": "009996457667",
  "eu-central-1": "054676820928",
  "eu-north-1": "897822967062",
  "ap-southeast-1": "114774131450",
  "ap-southeast-2": "783225319266",
  "ap-northeast-1": "582318560864",
  "ap-south-1": "718504428378",
  "sa-east-1": "507241528517",
};

/** One IAM policy statement as the provider function receives it. */
interface StatementArgs {
  sid?: string;
  effect?: string;
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  principals?: { type: string; identifiers: string[] }[];
  notPrincipals?: { type: string; identifiers: string[] }[];
  conditions?: { test: string; variable: string; values: string[] }[];
}

/** The provider renders one-element lists as a bare string. */
function oneOrMany(values: string[]): string | string[] {
  return values.length === 1 ? values[0]! : values;
}

/** Renders `principals` the way the provider does: `"*"` for an everyone-principal, else a map by type. */
function renderPrincipals(principals: { type: string; identifiers: string[] }[]): unknown {
  if (principals.length === 1 && principals[0]!.type === "*") return "*";
  const out: Record<string, string | string[]> = {};
  for (const p of principals) {
    const prev = out[p.type];
    const merged = [...(prev === undefined ? [] : Array.isArray(prev) ? prev : [prev]), ...p.identifiers];
    out[p.type] = oneOrMany(merged);
  }
  return out;
}

/** Renders one statement with keys in the provider's order. */
function renderStatement(s: StatementArgs): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.sid) out["Sid"] = s.sid;
  out["Effect"] = s.effect ?? "Allow";
  if (s.actions?.length) out["Action"] = oneOrMany(s.actions);
  if (s.notActions?.length) out["NotAction"] = oneOrMany(s.notActions);
  if (s.resources?.length) out["Resource"] = oneOrMany(s.resources);
  if (s.notResources?.length) out["NotResource"] = oneOrMany(s.notResources);
  if (s.principals?.length) out["Principal"] = renderPrincipals(s.principals);
  if (s.notPrincipals?.length) out["NotPrincipal"] = renderPrincipals(s.notPrincipals);
  if (s.conditions?.length) {
    const cond: Record<string, Record<string, string | string[]>> = {};
    for (const c of s.conditions) {
      cond[c.test] = { ...cond[c.test], [c.variable]: oneOrMany(c.values) };
    }
    out["Condition"] = cond;
  }
  return out;
}

/**
 * Renders `aws.iam.getPolicyDocument` arguments into the JSON the real provider returns.
 * Source and override documents are merged by Sid like the provider: overrides replace same-Sid statements.
 */
export function renderPolicyDocument(args: Record<string, unknown>): { json: string; minifiedJson: string } {
  const statements: Record<string, unknown>[] = [];
  const bySid = new Map<string, number>();
  const add = (st: Record<string, unknown>, replace: boolean) => {
    const sid = typeof st["Sid"] === "string" ? st["Sid"] : undefined;
    const at = sid === undefined ? undefined : bySid.get(sid);
    if (at !== undefined && replace) statements[at] = st;
    else {
      if (sid !== undefined) bySid.set(sid, statements.length);
      statements.push(st);
    }
  };
  const fromDocs = (docs: unknown, replace: boolean) => {
    for (const d of Array.isArray(docs) ? docs : []) {
      const parsed = JSON.parse(String(d)) as { Statement?: Record<string, unknown> | Record<string, unknown>[] };
      const sts = parsed.Statement === undefined ? [] : Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
      sts.forEach((st) => add(st, replace));
    }
  };
  fromDocs(args["sourcePolicyDocuments"], false);
  for (const s of (Array.isArray(args["statements"]) ? args["statements"] : []) as StatementArgs[]) add(renderStatement(s), true);
  fromDocs(args["overridePolicyDocuments"], true);
  const doc: Record<string, unknown> = { Version: typeof args["version"] === "string" ? args["version"] : "2012-10-17" };
  if (typeof args["policyId"] === "string") doc["Id"] = args["policyId"];
  doc["Statement"] = statements;
  return { json: JSON.stringify(doc, null, 2), minifiedJson: JSON.stringify(doc) };
}

/** The invokes the recorder answers, keyed by token. Everything else throws. */
export const KNOWN_INVOKES: Record<string, InvokeMock> = {
  "aws:index/getAvailabilityZones:getAvailabilityZones": ({ region }) => {
    const letters = ["a", "b", "c"];
    return {
      id: region,
      names: letters.map((l) => `${region}${l}`),
      zoneIds: letters.map((_, i) => `${zoneIdPrefix(region)}-az${i + 1}`),
      groupNames: [region],
      state: "available",
    };
  },
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    id: MOCK_ACCOUNT_ID,
    accountId: MOCK_ACCOUNT_ID,
    arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/mock`,
    userId: "AIDAMOCKUSERID000000",
  }),
  "aws:index/getRegion:getRegion": ({ region }) => ({
    id: region,
    name: region,
    region,
    endpoint: `ec2.${region}.amazonaws.com`,
    description: region,
  }),
  "aws:index/getPartition:getPartition": () => ({
    id: "aws",
    partition: "aws",
    dnsSuffix: "amazonaws.com",
    reverseDnsPrefix: "com.amazonaws",
  }),
  "aws:iam/getPolicyDocument:getPolicyDocument": ({ args }) => {
    const { json, minifiedJson } = renderPolicyDocument(args);
    return { id: hexHash(minifiedJson, 10), json, minifiedJson };
  },
  "aws:elb/getServiceAccount:getServiceAccount": ({ region }) => {
    const account = ELB_SERVICE_ACCOUNTS[region] ?? ELB_SERVICE_ACCOUNTS["us-east-1"]!;
    return { id: account, arn: `arn:aws:iam::${account}:root`, region };
  },
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": ({ region }) => {
    const password = `mock-ecr-password-${hexHash(region, 12)}`;
    return {
      id: region,
      authorizationToken: Buffer.from(`AWS:${password}`).toString("base64"),
      userName: "AWS",
      password,
      proxyEndpoint: `https://${MOCK_ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com`,
      expiresAt: "2030-01-01T00:00:00Z",
      registryId: MOCK_ACCOUNT_ID,
    };
  },
};
