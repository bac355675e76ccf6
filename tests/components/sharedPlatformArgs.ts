import type { SharedPlatformArgs } from "../../components/sharedPlatform";

/** SharedPlatform args of a small test platform in eu-west-1 (two zones, Serverless v2, no readers), with overrides. */
export function sharedPlatformArgs(
    database: Partial<SharedPlatformArgs["database"]> = {},
    overrides: Partial<Omit<SharedPlatformArgs, "database">> = {},
): SharedPlatformArgs {
    return {
        stack: "test",
        domain: "saas.example.com",
        hostedZoneId: "Z0TEST0ZONE",
        vpcCidr: "10.0.0.0/16",
        availabilityZoneIds: ["euw1-az1", "euw1-az2"],
        natGateways: "single",
        database: { engineVersion: "16.6", minCapacity: 0.5, maxCapacity: 4, readers: 0, name: "tenancy", backupRetentionDays: 7, ...database },
        app: { cpu: 512, memory: 1024, desiredCount: 1, containerPort: 8080, healthCheckPath: "/healthz" },
        appRepository: "tenancy-app",
        releaseVersion: "1.2.3",
        protect: false,
        logRetentionDays: 14,
        tags: { "tenancy:stack": "test", "tenancy:tier": "platform" },
        ...overrides,
    };
}
