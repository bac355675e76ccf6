import type { DatabaseCellArgs } from "../../components/databaseCell";
import type { SharedPlatformArgs } from "../../components/sharedPlatform";

/** SharedPlatform args of a small test platform in eu-west-1 (two zones), with overrides. */
export function sharedPlatformArgs(overrides: Partial<SharedPlatformArgs> = {}): SharedPlatformArgs {
    return {
        stack: "test",
        domain: "saas.example.com",
        hostedZoneId: "Z0TEST0ZONE",
        vpcCidr: "10.0.0.0/16",
        availabilityZoneIds: ["euw1-az1", "euw1-az2"],
        natGateways: "single",
        app: { cpu: 512, memory: 1024, desiredCount: 1, containerPort: 8080, healthCheckPath: "/healthz" },
        appRepository: "tenancy-app",
        releaseVersion: "1.2.3",
        protect: false,
        logRetentionDays: 14,
        tags: { "tenancy:stack": "test", "tenancy:tier": "platform" },
        ...overrides,
    };
}

/** Plain platform values a test cell runs on (what a fleet's cell stack reads from its platform stack). */
export const TEST_PLATFORM = {
    vpcId: "vpc-0test000000000001",
    isolatedSubnetIds: ["subnet-0iso0000000000a", "subnet-0iso0000000000b"],
    availabilityZones: ["eu-west-1a", "eu-west-1b"],
    appSecurityGroupId: "sg-0app0000000000001",
    deployRunnerSecurityGroupId: "sg-0runner000000001",
    kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/test",
} as const;

/** DatabaseCell args of cell `name` of environment `test` (Serverless v2, no readers), with overrides. */
export function databaseCellArgs(
    database: Partial<DatabaseCellArgs["database"]> = {},
    overrides: Partial<Omit<DatabaseCellArgs, "database">> = {},
): DatabaseCellArgs {
    return {
        env: "test",
        cell: "main",
        database: { engineVersion: "16.6", minCapacity: 0.5, maxCapacity: 4, readers: 0, name: "tenancy", backupRetentionDays: 7, ...database },
        ...TEST_PLATFORM,
        isolatedSubnetIds: [...TEST_PLATFORM.isolatedSubnetIds],
        availabilityZones: [...TEST_PLATFORM.availabilityZones],
        protect: false,
        logRetentionDays: 14,
        tags: { "tenancy:stack": "test", "tenancy:tier": "platform" },
        ...overrides,
    };
}
