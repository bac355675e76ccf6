/**
 * A throw-away repository root with two stacks of the tests' own, `dev` and `prod`: configuration and tenant files like
 * the repository's examples were when these tests were written, frozen here so that a user editing the examples
 * (adding `tenants/dev/wonka.yaml`, a `Pulumi.staging.yaml`) never changes what a test sees. The examples themselves
 * are checked only by tests/examples.test.ts (every example stack validates and plans).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const FIXTURE_PULUMI_YAML = `name: tenancy
description: "Tenancy-as-code for SaaS platform teams: shared, hybrid and dedicated tenants from one directory of tenant files."
runtime:
  name: nodejs
  options:
    typescript: true
    packagemanager: npm
main: stacks/
`;

/** `Pulumi.<stack>.yaml` of each fixture stack. */
export const FIXTURE_STACK_FILES: Record<"dev" | "prod", string> = {
    dev: `# Development stack: every tier allowed, small shared platform, nothing protected.
config:
  aws:region: us-east-1
  tenancy:domain: dev.tenancy-example.com
  tenancy:hostedZoneId: Z0DEV0EXAMPLE0ZONE01
  tenancy:regions:
    - us-east-1
    - eu-west-1
  tenancy:tiers:
    allowed: [shared, hybrid, dedicated]
    default: shared
  tenancy:channels:
    stable: 2.14.3
    beta: 2.15.0-rc.1
  tenancy:features: [sso, audit-log, analytics, api-access, custom-reports]
  tenancy:shared:
    vpcCidr: 10.0.0.0/16
    availabilityZones: 2
    natGateways: single
    database:
      engineVersion: "16.6"
      minCapacity: 0.5
      maxCapacity: 4
      readers: 0
      reservedConnections: 50
      tenantConnectionLimit: 20
      tenantStatementTimeoutSeconds: 30
      backupRetentionDays: 7
    app:
      cpu: 512
      memory: 1024
      desiredCount: 1
      containerPort: 8080
  tenancy:availabilityZoneIds:
    us-east-1: [use1-az1, use1-az2, use1-az4]
    eu-west-1: [euw1-az1, euw1-az2, euw1-az3]
  tenancy:tenantsDir: tenants/dev
  tenancy:protect: false
  tenancy:highAvailability: false
  tenancy:logRetentionDays: 14
`,
    prod: `# Production stack: mixed tiers, three AZs, HA databases, every stateful resource protected.
config:
  aws:region: us-east-1
  tenancy:domain: tenancy-example.com
  tenancy:hostedZoneId: Z0PROD0EXAMPLE0ZONE1
  tenancy:regions:
    - us-east-1
    - eu-central-1
    - ap-southeast-2
  tenancy:tiers:
    allowed: [shared, hybrid, dedicated]
    default: shared
  tenancy:channels:
    stable: 2.14.3
    lts: 2.12.9
  tenancy:features: [sso, audit-log, analytics, api-access, custom-reports, data-export]
  tenancy:sizes:
    large:
      dbInstanceClass: db.r6g.2xlarge
      allocatedStorageGb: 500
      maxAllocatedStorageGb: 4000
      cpu: 4096
      memory: 8192
      minTasks: 3
      maxTasks: 20
  tenancy:shared:
    vpcCidr: 10.0.0.0/16
    availabilityZones: 3
    natGateways: perAz
    database:
      engineVersion: "16.6"
      minCapacity: 2
      maxCapacity: 32
      readers: 1
      reservedConnections: 200
      tenantConnectionLimit: 40
      tenantStatementTimeoutSeconds: 30
      backupRetentionDays: 14
    app:
      cpu: 1024
      memory: 2048
      desiredCount: 3
      containerPort: 8080
  tenancy:availabilityZoneIds:
    us-east-1: [use1-az1, use1-az2, use1-az4]
    eu-central-1: [euc1-az1, euc1-az2, euc1-az3]
    ap-southeast-2: [apse2-az1, apse2-az2, apse2-az3]
  tenancy:tenantsDir: tenants/prod
  tenancy:protect: true
  tenancy:highAvailability: true
  tenancy:logRetentionDays: 365
`,
};

/** Tenant files of each fixture stack, by file name. */
export const FIXTURE_TENANTS: Record<"dev" | "prod", Record<string, string>> = {
    dev: {
        "acme.yaml": `slug: acme
displayName: Acme Corporation
tier: shared
features: [sso, audit-log]
branding:
  primaryColor: "#d9480f"
  logoUrl: https://cdn.acme.example/logo.svg
tags:
  cost-center: cc-1001
`,
        "globex.yaml": `slug: globex
displayName: Globex Industries
tier: hybrid
size: small
features: [analytics]
database:
  backupRetentionDays: 14
`,
        "initech.yaml": `slug: initech
displayName: Initech
tier: dedicated
region: eu-west-1
network:
  cidr: 10.20.0.0/16
size: small
release:
  version: 2.14.1
features: [sso, api-access]
tags:
  cost-center: cc-2040
`,
    },
    prod: {
        "acme.yaml": `slug: acme
displayName: Acme Corporation
tier: shared
features: [sso, audit-log]
tags:
  cost-center: cc-1213
`,
        "cyberdyne.yaml": `slug: cyberdyne
displayName: Cyberdyne Systems
tier: hybrid
size: medium
customDomains: [portal.cyberdyne.example]
features: [sso, audit-log, data-export]
database:
  backupRetentionDays: 30
`,
        "hooli.yaml": `slug: hooli
displayName: Hooli
tier: shared
features: [sso, api-access]
tags:
  cost-center: cc-2510
`,
        "soylent.yaml": `slug: soylent
displayName: Soylent Foods
tier: shared
status: offboarded
`,
        "stark.yaml": `slug: stark
displayName: Stark Logistics
tier: shared
features: []
tags:
  cost-center: cc-1083
`,
        "tyrell.yaml": `slug: tyrell
displayName: Tyrell Corporation
tier: dedicated
region: eu-central-1
network:
  cidr: 10.40.0.0/16
size: large
release:
  channel: lts
customDomains: [app.tyrell.example]
features: [sso, audit-log, analytics, api-access, data-export]
branding:
  primaryColor: "#1b1b3a"
database:
  backupRetentionDays: 35
tags:
  cost-center: cc-9001
  contract: enterprise-2026
`,
        "umbrella.yaml": `slug: umbrella
displayName: Umbrella Health
tier: shared
features: [analytics]
tags:
  cost-center: cc-2090
`,
        "wayne.yaml": `slug: wayne
displayName: Wayne Enterprises
tier: shared
status: suspended
features: [sso]
`,
    },
};

/** A fixture repository; `remove()` deletes it. */
export interface FixtureRepo {
    root: string;
    remove(): void;
}

/** Writes the fixture stacks into a new temp directory (`Pulumi.yaml`, `Pulumi.<stack>.yaml`, `tenants/<stack>/`). */
export function fixtureRepo(): FixtureRepo {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "tenancy-fixture-"));
    fs.writeFileSync(path.join(root, "Pulumi.yaml"), FIXTURE_PULUMI_YAML);
    for (const stack of ["dev", "prod"] as const) {
        fs.writeFileSync(path.join(root, `Pulumi.${stack}.yaml`), FIXTURE_STACK_FILES[stack]);
        const dir = path.join(root, "tenants", stack);
        fs.mkdirSync(dir, { recursive: true });
        for (const [name, text] of Object.entries(FIXTURE_TENANTS[stack])) fs.writeFileSync(path.join(dir, name), text);
    }
    return { root, remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}
