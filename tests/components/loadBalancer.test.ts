import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import * as aws from "@pulumi/aws";
import { LoadBalancer, LoadBalancerArgs, TLS_POLICY, elbLogDeliveryPrincipal, elbNaming, maintenanceResponse, validationPlan } from "../../components/loadBalancer";
import { MOCK_ACCOUNT_ID, RecordResult, RecordedResource, awaitOutput, ofType, record } from "../../engine/recorder";

const BASE: LoadBalancerArgs = {
    vpcId: "vpc-0123456789abcdef0",
    vpcCidr: "10.20.0.0/16",
    subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
    region: "eu-west-1",
    domainNames: ["*.saas.example.com", "saas.example.com"],
    hostedZoneId: "Z0123456789ABCDEFGHIJ",
    zoneDomain: "saas.example.com",
    targetPort: 8080,
    healthCheckPath: "/healthz",
    logRetentionDays: 30,
    protect: false,
    tags: { "tenancy:tier": "platform" },
};

interface Run {
    result: RecordResult;
    outputs: {
        arn: string;
        dnsName: string;
        zoneId: string;
        securityGroupId: string;
        targetGroupArn: string;
        httpsListenerArn: string;
        certificateArn: string;
        externalValidationRecords: { domainName: string; name: string; type: string; value: string; certificateArn: string }[];
    };
}

/**
 * Records a stack holding one LoadBalancer (named `web` unless told) and resolves its outputs. A `probe` parameter
 * outside the component consumes `targetGroupArn`, the way an ECS service would.
 */
async function run(overrides: Partial<LoadBalancerArgs> = {}, name = "web"): Promise<Run> {
    let lb: LoadBalancer | undefined;
    const result = await record(
        async () => {
            lb = new LoadBalancer(name, { ...BASE, ...overrides });
            new aws.ssm.Parameter("probe", { type: "String", value: lb.targetGroupArn });
        },
        { project: "tenancy", stack: "test", config: { "aws:region": "us-east-1" } },
    );
    const l = lb!;
    const outputs = await awaitOutput(pulumi.output({
        arn: l.arn,
        dnsName: l.dnsName,
        zoneId: l.zoneId,
        securityGroupId: l.securityGroupId,
        targetGroupArn: l.targetGroupArn,
        httpsListenerArn: l.httpsListenerArn,
        certificateArn: l.certificateArn,
        externalValidationRecords: l.externalValidationRecords,
    }));
    return { result, outputs };
}

const one = (result: RecordResult, type: string, name?: string): RecordedResource => {
    const found = ofType(result, type).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1) throw new Error(`expected one ${type} ${name ?? ""}, found ${found.length}`);
    return found[0]!;
};
const LB = "aws:lb/loadBalancer:LoadBalancer";
const LISTENER = "aws:lb/listener:Listener";

describe("validationPlan, elbNaming and maintenanceResponse", () => {
    test("ALB and target group names fit AWS's 32 characters: auto-named when the logical name allows, else a 6-character prefix", () => {
        expect(elbNaming("acme-web-alb")).toEqual({});
        expect(elbNaming("a".repeat(24))).toEqual({});
        expect(elbNaming("acme-corporation-international-alb")).toEqual({ namePrefix: "acme-" });
        expect(elbNaming("abcd-efghijklmnopqrstuvwxyz-tg")).toEqual({ namePrefix: "abcd-" });
        for (const n of ["x".repeat(25), "tenant-with-a-very-long-slug-tg"]) expect(elbNaming(n).namePrefix!.length).toBeLessThanOrEqual(6);
    });

    test("a wildcard and its apex share one validation record; names outside the zone are external", () => {
        expect(validationPlan(["*.saas.example.com", "saas.example.com", "acme.saas.example.com", "app.acme.com", "*.app.acme.com"], "saas.example.com")).toEqual({
            inZone: ["*.saas.example.com", "acme.saas.example.com"],
            external: ["app.acme.com"],
        });
        // A name that merely ends with the zone's text is not in the zone.
        expect(validationPlan(["evilsaas.example.com"], "saas.example.com")).toEqual({ inZone: [], external: ["evilsaas.example.com"] });
    });

    test("the maintenance page is a text/html 503 within the 1024-byte fixed-response limit", () => {
        const r = maintenanceResponse();
        expect(r.contentType).toBe("text/html");
        expect(r.statusCode).toBe("503");
        expect(Buffer.byteLength(r.messageBody, "utf8")).toBeLessThanOrEqual(1024);
        expect(r.messageBody).toContain("maintenance");
    });
});

describe("LoadBalancer", () => {
    test("the ALB security group admits only TCP 443 and 80 from anywhere (IPv4 and IPv6) and sends only to the VPC on the target port", async () => {
        const { result, outputs } = await run();
        const sg = one(result, "aws:ec2/securityGroup:SecurityGroup");
        expect(outputs.securityGroupId).toBe(sg.id);
        // Rules are separate resources; inline blocks would fight with them.
        expect(sg.inputs["ingress"]).toBeUndefined();
        expect(sg.inputs["egress"]).toBeUndefined();
        const ingress = ofType(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
        expect(ingress.every((r) => r.inputs["securityGroupId"] === sg.id && r.inputs["ipProtocol"] === "tcp")).toBe(true);
        expect(ingress.map((r) => [r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"] ?? r.inputs["cidrIpv6"]]).sort()).toEqual(
            [
                [443, 443, "0.0.0.0/0"],
                [443, 443, "::/0"],
                [80, 80, "0.0.0.0/0"],
                [80, 80, "::/0"],
            ].sort(),
        );
        const egress = ofType(result, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
        expect(egress.map((r) => r.inputs)).toEqual([
            expect.objectContaining({ securityGroupId: sg.id, ipProtocol: "tcp", fromPort: 8080, toPort: 8080, cidrIpv4: "10.20.0.0/16" }),
        ]);
    });

    test("the ALB is internet-facing, drops invalid headers, logs to its own bucket, and is created after the bucket policy", async () => {
        const { result, outputs } = await run();
        const alb = one(result, LB);
        const bucket = one(result, "aws:s3/bucket:Bucket");
        const bucketPolicy = one(result, "aws:s3/bucketPolicy:BucketPolicy");
        expect(alb.inputs).toMatchObject({
            loadBalancerType: "application",
            internal: false,
            dropInvalidHeaderFields: true,
            enableDeletionProtection: false,
            subnets: ["subnet-a", "subnet-b", "subnet-c"],
            securityGroups: [outputs.securityGroupId],
            accessLogs: { bucket: bucket.id, enabled: true },
        });
        expect(alb.options.dependsOn).toContain(bucketPolicy.urn);
        expect(outputs).toMatchObject({ arn: alb.id, dnsName: alb.outputs["dnsName"], zoneId: alb.outputs["zoneId"] });
    });

    test("deletionProtection overrides protect for the ALB only: a removable ALB keeps a protected-stack bucket policy", async () => {
        const { result } = await run({ protect: false, deletionProtection: true });
        expect(one(result, LB).inputs["enableDeletionProtection"]).toBe(true);
        const off = await run({ protect: true, deletionProtection: false });
        expect(one(off.result, LB).inputs["enableDeletionProtection"]).toBe(false);
        expect(one(off.result, "aws:s3/bucket:Bucket").options.protect).toBe(true);
    });

    test("protect turns on the ALB's deletion protection and protects the access-log bucket", async () => {
        const { result } = await run({ protect: true });
        expect(one(result, LB).inputs["enableDeletionProtection"]).toBe(true);
        expect(one(result, "aws:s3/bucket:Bucket").options.protect).toBe(true);
    });

    test("the retained access-log bucket keeps its public-access block, policy, encryption, ownership and expiry when the ALB goes", async () => {
        const { result } = await run();
        const bucketTypes = ["Bucket", "BucketPublicAccessBlock", "BucketPolicy", "BucketServerSideEncryptionConfiguration", "BucketOwnershipControls", "BucketLifecycleConfiguration"];
        const s3 = result.resources.filter((r) => r.type.startsWith("aws:s3/"));
        expect(s3.map((r) => r.type.split(":")[2]).sort()).toEqual([...bucketTypes].sort());
        for (const r of s3) expect(r.options.retainOnDelete, r.type).toBe(true);
        // The load balancer itself is not retained: offboarding removes it.
        expect(one(result, LB).options.retainOnDelete).toBe(false);
    });

    test("ALB log delivery writes as the regional ELB account in Regions opened before August 2022, as the service elsewhere", () => {
        expect(elbLogDeliveryPrincipal("us-east-1")).toEqual({ type: "AWS", identifier: "arn:aws:iam::127311923021:root" });
        expect(elbLogDeliveryPrincipal("eu-central-1")).toEqual({ type: "AWS", identifier: "arn:aws:iam::054676820928:root" });
        expect(elbLogDeliveryPrincipal("ap-southeast-2")).toEqual({ type: "AWS", identifier: "arn:aws:iam::783225319266:root" });
        expect(elbLogDeliveryPrincipal("cn-north-1", "aws-cn")).toEqual({ type: "AWS", identifier: "arn:aws-cn:iam::638102146993:root" });
        expect(elbLogDeliveryPrincipal("eu-central-2")).toEqual({ type: "Service", identifier: "logdelivery.elasticloadbalancing.amazonaws.com" });
    });

    test("without a region the bucket policy names the ELB account of the provider's region", async () => {
        const { result } = await run({ region: undefined });
        const doc = JSON.parse(one(result, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"] as string) as { Statement: Record<string, unknown>[] };
        expect(doc.Statement[0]).toMatchObject({ Sid: "ElbLogDelivery", Principal: { AWS: "arn:aws:iam::127311923021:root" } });
    });

    test("the log bucket is private, SSE-S3, owner-enforced, expiring, TLS-only, and writable only by ELB log delivery under AWSLogs/<account>", async () => {
        const { result } = await run({ logRetentionDays: 14 });
        const bucket = one(result, "aws:s3/bucket:Bucket");
        expect(bucket.inputs["forceDestroy"]).toBe(false);
        const onBucket = (type: string) => {
            const r = one(result, type);
            expect(r.inputs["bucket"]).toBe(bucket.id);
            return r.inputs;
        };
        expect(onBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")).toMatchObject({
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        });
        expect(onBucket("aws:s3/bucketOwnershipControls:BucketOwnershipControls")["rule"]).toEqual({ objectOwnership: "BucketOwnerEnforced" });
        expect(onBucket("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")["rules"]).toEqual([
            { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        ]);
        expect(onBucket("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")["rules"]).toEqual([
            expect.objectContaining({ status: "Enabled", expiration: { days: 14 } }),
        ]);
        const doc = JSON.parse(onBucket("aws:s3/bucketPolicy:BucketPolicy")["policy"] as string) as { Statement: Record<string, unknown>[] };
        const arn = bucket.outputs["arn"] as string;
        expect(doc.Statement).toEqual([
            {
                Sid: "ElbLogDelivery",
                Effect: "Allow",
                // BASE is in eu-west-1, a Region opened before August 2022: ELB's account there, not the service principal.
                Principal: { AWS: "arn:aws:iam::156460612806:root" },
                Action: "s3:PutObject",
                Resource: `${arn}/AWSLogs/${MOCK_ACCOUNT_ID}/*`,
            },
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [arn, `${arn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ]);
    });

    test("the HTTP listener's only action is a permanent redirect to HTTPS 443", async () => {
        const { result } = await run();
        const http = one(result, LISTENER, "web-http");
        expect(http.inputs).toMatchObject({ port: 80, protocol: "HTTP" });
        expect(http.inputs["defaultActions"]).toEqual([{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]);
        expect(ofType(result, "aws:lb/listenerRule:ListenerRule")).toEqual([]);
    });

    test("the HTTPS listener uses the TLS 1.3/1.2 policy and the validated certificate, and forwards to the IP target group", async () => {
        const { result, outputs } = await run();
        const https = one(result, LISTENER, "web-https");
        const tg = one(result, "aws:lb/targetGroup:TargetGroup");
        const validation = one(result, "aws:acm/certificateValidation:CertificateValidation");
        expect(TLS_POLICY).toBe("ELBSecurityPolicy-TLS13-1-2-2021-06");
        expect(https.inputs).toMatchObject({ port: 443, protocol: "HTTPS", sslPolicy: TLS_POLICY, loadBalancerArn: outputs.arn });
        expect(https.inputs["defaultActions"]).toEqual([{ type: "forward", targetGroupArn: tg.id }]);
        // The certificate ARN comes from the validation, so the listener waits until ACM has issued it.
        expect(https.options.propertyDependencies["certificateArn"]).toEqual([validation.urn]);
        expect(outputs).toMatchObject({ httpsListenerArn: https.id, targetGroupArn: tg.id, certificateArn: https.inputs["certificateArn"] });
        expect(tg.inputs).toMatchObject({
            targetType: "ip",
            protocol: "HTTP",
            port: 8080,
            deregistrationDelay: 30,
            vpcId: BASE.vpcId,
            healthCheck: expect.objectContaining({ path: "/healthz", protocol: "HTTP" }),
        });
    });

    test("maintenance: the HTTPS default action is the fixed 503 page, and the target group stays attached by a rule no client can match", async () => {
        const { result } = await run({ maintenance: true });
        const https = one(result, LISTENER, "web-https");
        expect(https.inputs["defaultActions"]).toEqual([{ type: "fixed-response", fixedResponse: maintenanceResponse() }]);
        const rule = one(result, "aws:lb/listenerRule:ListenerRule");
        expect(rule.inputs).toMatchObject({
            listenerArn: https.id,
            conditions: [{ sourceIp: { values: ["192.0.2.1/32"] } }],
            actions: [{ type: "forward", targetGroupArn: one(result, "aws:lb/targetGroup:TargetGroup").id }],
        });
    });

    test("in-zone names: one validation record per wildcard/apex pair in the hosted zone, and the certificate is validated with them", async () => {
        const { result, outputs } = await run({ domainNames: ["*.saas.example.com", "saas.example.com", "acme.saas.example.com"] });
        const cert = one(result, "aws:acm/certificate:Certificate");
        expect(cert.inputs).toMatchObject({
            domainName: "*.saas.example.com",
            subjectAlternativeNames: ["saas.example.com", "acme.saas.example.com"],
            validationMethod: "DNS",
            region: "eu-west-1",
        });
        const records = ofType(result, "aws:route53/record:Record");
        const options = cert.outputs["domainValidationOptions"] as { domainName: string; resourceRecordName: string; resourceRecordValue: string }[];
        const expected = ["*.saas.example.com", "acme.saas.example.com"].map((d) => options.find((o) => o.domainName === d)!);
        expect(records.map((r) => r.inputs)).toEqual(
            expected.map((o) =>
                expect.objectContaining({ zoneId: BASE.hostedZoneId, name: o.resourceRecordName, type: "CNAME", records: [o.resourceRecordValue], allowOverwrite: true }),
            ),
        );
        const validation = one(result, "aws:acm/certificateValidation:CertificateValidation");
        expect(validation.inputs).toMatchObject({ certificateArn: cert.id, region: "eu-west-1" });
        expect(validation.inputs["validationRecordFqdns"]).toHaveLength(2);
        expect(outputs.externalValidationRecords).toEqual([]);
    });

    test("extra certificates: each is requested and its records exported; only an attached one is waited for and put on the HTTPS listener", async () => {
        const { result, outputs } = await run({
            domainNames: ["acme.saas.example.com"],
            extraCertificates: [
                { key: "app.acme.com", domainName: "app.acme.com", subjectAlternativeNames: [], attach: false },
                { key: "www.acme.com", domainName: "www.acme.com", subjectAlternativeNames: [], attach: true },
            ],
        });
        const cert = (n: string) => one(result, "aws:acm/certificate:Certificate", n);
        const [app, www] = [cert("web-cert-app.acme.com"), cert("web-cert-www.acme.com")];
        const option = (c: RecordedResource) => (c.outputs["domainValidationOptions"] as Record<string, string>[])[0]!;
        expect(outputs.externalValidationRecords).toEqual([app, www].map((c) => ({
            domainName: c.inputs["domainName"], name: option(c)["resourceRecordName"], type: "CNAME", value: option(c)["resourceRecordValue"], certificateArn: c.id,
        })));
        // Only the default certificate's in-zone name is written to our zone; nothing of the customers'.
        expect(ofType(result, "aws:route53/record:Record").map((r) => r.name)).toEqual(["web-validation-acme.saas.example.com"]);
        const validations = ofType(result, "aws:acm/certificateValidation:CertificateValidation");
        expect(validations.map((v) => v.name).sort()).toEqual(["web-cert-validation", "web-cert-www.acme.com-validation"]);
        const wwwValidation = one(result, "aws:acm/certificateValidation:CertificateValidation", "web-cert-www.acme.com-validation");
        // The customer's record is listed too: the provider refuses a list that misses one of the certificate's records.
        expect(wwwValidation.inputs).toMatchObject({ certificateArn: www.id, validationRecordFqdns: [option(www)["resourceRecordName"]], region: "eu-west-1" });
        expect(wwwValidation.options.customTimeouts).toMatchObject({ create: "30m" });
        const attachment = one(result, "aws:lb/listenerCertificate:ListenerCertificate");
        expect(attachment.name).toBe("web-cert-www.acme.com-attachment");
        expect(attachment.inputs).toEqual({ listenerArn: one(result, LISTENER, "web-https").id, certificateArn: www.id, region: "eu-west-1" });
        expect(attachment.options.propertyDependencies["certificateArn"]).toEqual([wwwValidation.urn]);
        expect(attachment.options.deleteBeforeReplace).toBe(false);
        // The listener's own certificate never waits on a customer.
        expect(one(result, LISTENER, "web-https").inputs["certificateArn"]).toBe(cert("web-cert").id);
    });

    test("an in-zone name on the default and an extra certificate gets one validation record, used by both", async () => {
        const long = `${"l".repeat(60)}.acme.com`;
        const { result } = await run({
            domainNames: ["acme.saas.example.com"],
            extraCertificates: [{ key: long, domainName: "acme.saas.example.com", subjectAlternativeNames: [long], attach: true }],
        });
        const records = ofType(result, "aws:route53/record:Record");
        expect(records.map((r) => r.name)).toEqual(["web-validation-acme.saas.example.com"]);
        const extra = one(result, "aws:acm/certificateValidation:CertificateValidation", `web-cert-${long}-validation`);
        const cert = one(result, "aws:acm/certificate:Certificate", `web-cert-${long}`);
        // Waits on our record (and lists the customer's, read from the certificate).
        expect(extra.options.propertyDependencies["validationRecordFqdns"]!.sort()).toEqual([records[0]!.urn, cert.urn].sort());
        expect(extra.inputs["validationRecordFqdns"]).toEqual([
            records[0]!.outputs["fqdn"],
            (cert.outputs["domainValidationOptions"] as Record<string, string>[]).find((o) => o["domainName"] === long)!["resourceRecordName"],
        ]);
    });

    test("a consumer of targetGroupArn waits for the HTTPS listener (and, in maintenance, the rule) that attaches the group", async () => {
        for (const maintenance of [false, true]) {
            const { result } = await run({ maintenance });
            const probe = one(result, "aws:ssm/parameter:Parameter", "probe");
            const needed = [one(result, LISTENER, "web-https").urn, ...ofType(result, "aws:lb/listenerRule:ListenerRule").map((r) => r.urn)];
            expect(probe.options.propertyDependencies["value"]).toEqual(expect.arrayContaining([one(result, "aws:lb/targetGroup:TargetGroup").urn, ...needed]));
        }
    });

    test("a long component name gets a short namePrefix for the ALB and target group instead of an auto-name AWS would reject", async () => {
        const { result } = await run({}, "tenant-with-a-very-long-slug");
        expect(one(result, LB).inputs["namePrefix"]).toBe("tenan-");
        expect(one(result, "aws:lb/targetGroup:TargetGroup").inputs["namePrefix"]).toBe("tenan-");
        expect(one(result, LB).inputs["name"]).toBeUndefined();
    });

    test("every regional child, the certificate included, gets the given region; Route 53 (global) gets none", async () => {
        const { result } = await run({ region: "ap-southeast-2", maintenance: true });
        const custom = result.resources.filter((r) => r.custom && r.name !== "probe");
        const global = custom.filter((r) => r.type.startsWith("aws:route53/"));
        expect(global.length).toBeGreaterThan(0);
        expect(global.every((r) => r.inputs["region"] === undefined)).toBe(true);
        const regional = custom.filter((r) => !r.type.startsWith("aws:route53/"));
        expect(regional.filter((r) => r.inputs["region"] !== "ap-southeast-2").map((r) => `${r.type} ${r.name}`)).toEqual([]);
        expect(custom.every((r) => r.provider === null)).toBe(true);
    });

    test("every child is parented to the component, named after it, and tagged", async () => {
        const { result } = await run({ maintenance: true });
        const component = one(result, "tenancy:network:LoadBalancer");
        const children = result.resources.filter((r) => r.parent === component.urn);
        expect(children).toHaveLength(result.resources.length - 3); // the stack, the component, the probe
        expect(children.filter((r) => !r.name.startsWith("web-")).map((r) => r.name)).toEqual([]);
        const untaggable = new Set([
            "aws:route53/record:Record",
            "aws:acm/certificateValidation:CertificateValidation",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "aws:s3/bucketPolicy:BucketPolicy",
        ]);
        for (const r of children.filter((c) => !untaggable.has(c.type))) {
            expect(r.inputs["tags"], `${r.type} ${r.name}`).toMatchObject({ "tenancy:tier": "platform", Name: expect.stringMatching(/^web-/) });
        }
    });

    test("invalid arguments throw before the component or any child is registered", async () => {
        const bad: Partial<LoadBalancerArgs>[] = [
            { domainNames: [] },
            { domainNames: ["Not A Host"] },
            { domainNames: ["a.saas.example.com", "a.saas.example.com"] },
            // The default certificate must never wait on a customer's DNS.
            { domainNames: ["acme.saas.example.com", "app.acme.com"] },
            { domainNames: [`${"x".repeat(60)}.saas.example.com`] },
            { extraCertificates: [1, 2].map(() => ({ key: "k", domainName: "app.acme.com", subjectAlternativeNames: [], attach: false })) },
            { subnetIds: ["subnet-a"] },
            { targetPort: 0 },
            { healthCheckPath: "healthz" },
        ];
        for (const b of bad) {
            const result = await record(
                async () => {
                    expect(() => new LoadBalancer("web", { ...BASE, ...b })).toThrow(/^load balancer: /);
                },
                { project: "tenancy", stack: "test" },
            );
            expect(result.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
        }
    });
});
