import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { certificateNames, inZone, validationBase, validationPlan } from "../tenants/certificates";
import { dnsCertificate, listenerCertificates, type ExternalValidationRecord } from "./certificate";

export { inZone, validationBase, validationPlan, type ExternalValidationRecord };

/** TLS 1.3 with TLS 1.2 fallback, forward-secret ciphers only. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

export interface LoadBalancerArgs {
    /** VPC of the load balancer and its target group. */
    vpcId: pulumi.Input<string>;
    /** CIDR of that VPC: the only destination the load balancer may send to (on `targetPort`). */
    vpcCidr: string;
    /** Public subnets, at least two in different AZs. */
    subnetIds: pulumi.Input<string>[];
    /** AWS v7 per-resource region of every regional resource here, certificate included (Route 53 is global). Defaults to the provider's region. */
    region?: string;
    /**
     * Names on the listener's default certificate, all in `zoneDomain` (we validate them, so the listener never waits on
     * anyone else's DNS): the first is its main name when it fits ACM's 64 characters, else the shortest that does;
     * the rest are SANs. E.g. `["*.saas.example.com", "saas.example.com"]` or `["acme.saas.example.com"]`.
     */
    domainNames: string[];
    /**
     * Certificates for names outside the zone (customers' domains), each beside the default one. Every one is requested
     * at once and its validation records exported in `externalValidationRecords`; it is waited for and attached to the
     * HTTPS listener only when `attach` (its owner has published the records). Nothing else waits for any of them.
     * `key` names its resources (`<name>-cert-<key>`). Defaults to none.
     */
    extraCertificates?: { key: string; domainName: string; subjectAlternativeNames: string[]; attach: boolean }[];
    /** Route 53 hosted zone of `zoneDomain`, where validation records of in-zone names are written. */
    hostedZoneId: string;
    /** Domain of `hostedZoneId`. */
    zoneDomain: string;
    /** Port the targets (tasks) listen on; the target group speaks HTTP to it. */
    targetPort: number;
    /** Path of the target group's HTTP health check, e.g. `/healthz`. Healthy means 200-399. */
    healthCheckPath: string;
    /** Serve a fixed 503 maintenance page instead of forwarding to the targets. Defaults to false. */
    maintenance?: boolean;
    /** Days the access logs are kept in their bucket before they expire. */
    logRetentionDays: number;
    /**
     * Protect the access-log bucket in Pulumi (and, unless `deletionProtection` says otherwise, turn on the load
     * balancer's deletion protection). Either way the bucket is retained when the load balancer goes away: access
     * logs are audit records.
     */
    protect: boolean;
    /**
     * The load balancer's own deletion protection (AWS refuses to delete it while on). Defaults to `protect`. A load
     * balancer that is to be removed later (a dedicated tenant's) turns it off one deploy before its removal.
     */
    deletionProtection?: boolean;
    /** Tags on every taggable resource; a `Name` tag is added where the console shows it. */
    tags: Record<string, string>;
}

/** What a fixed-response action of the maintenance page looks like (listener default actions and listener rules). */
export interface FixedResponse {
    contentType: string;
    statusCode: string;
    messageBody: string;
}

const MAINTENANCE_PAGE =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Down for maintenance</title></head>' +
    '<body style="font-family:sans-serif;text-align:center;padding:4em">' +
    "<h1>Down for maintenance</h1><p>We are making improvements and will be back shortly. Thank you for your patience.</p>" +
    "</body></html>";

/** The 503 maintenance page as an ALB fixed-response action (message bodies are limited to 1024 bytes). */
export function maintenanceResponse(): FixedResponse {
    return { contentType: "text/html", statusCode: "503", messageBody: MAINTENANCE_PAGE };
}

/**
 * Naming of load balancers and target groups, whose names are limited to 32 characters: Pulumi's auto-name
 * (`<logical>-<7 random>`) when it fits, else a short `namePrefix` that AWS completes with a unique suffix.
 * Either way the physical name is unique, so a replacement can be created before the old one is deleted.
 */
export function elbNaming(logicalName: string): { namePrefix?: string } {
    if (logicalName.length + 8 <= 32) return {};
    const prefix = logicalName.replace(/[^A-Za-z0-9-]/g, "").slice(0, 5).replace(/-+$/, "");
    return { namePrefix: `${prefix}-` };
}

/**
 * Elastic Load Balancing's log-delivery account of each Region opened before August 2022. ALBs there write access logs
 * as this account, not as the `logdelivery.elasticloadbalancing.amazonaws.com` service principal, which only Regions
 * opened since accept. Source: "Enable access logs for your Application Load Balancer", step 2 (bucket policy).
 */
export const ELB_LOG_DELIVERY_ACCOUNTS: Readonly<Record<string, string>> = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
};

/** The principal ALB access-log delivery writes as in `region`: the regional ELB account where one exists, else the service. */
export function elbLogDeliveryPrincipal(region: string, partition = "aws"): { type: string; identifier: string } {
    const account = ELB_LOG_DELIVERY_ACCOUNTS[region];
    return account
        ? { type: "AWS", identifier: `arn:${partition}:iam::${account}:root` }
        : { type: "Service", identifier: "logdelivery.elasticloadbalancing.amazonaws.com" };
}

const HOSTNAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * An internet-facing ALB: HTTPS on 443 (TLS 1.2+, ACM certificate), HTTP on 80 redirecting to HTTPS, one IP
 * target group, access logs in an S3 bucket of its own.
 */
export class LoadBalancer extends pulumi.ComponentResource {
    readonly loadBalancer: aws.lb.LoadBalancer;
    readonly targetGroup: aws.lb.TargetGroup;
    readonly httpsListener: aws.lb.Listener;
    readonly arn: pulumi.Output<string>;
    readonly dnsName: pulumi.Output<string>;
    /** Route 53 zone id of the load balancer, for alias records. */
    readonly zoneId: pulumi.Output<string>;
    readonly securityGroupId: pulumi.Output<string>;
    readonly targetGroupArn: pulumi.Output<string>;
    readonly httpsListenerArn: pulumi.Output<string>;
    /** The default certificate's ARN, resolved only once ACM has issued it. */
    readonly certificateArn: pulumi.Output<string>;
    /** Validation records the owners of `extraCertificates`' out-of-zone names must publish, attached or not. */
    readonly externalValidationRecords: pulumi.Output<ExternalValidationRecord[]>;

    constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
        validate(args);
        super("tenancy:network:LoadBalancer", name, {}, opts);
        const parent = { parent: this };
        const region = args.region;
        const withName = (n: string) => named(args.tags, n);

        // --- Security group: the internet in on 80/443, out only to the VPC on the target port.
        const sg = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            { vpcId: args.vpcId, description: "Load balancer: HTTP/HTTPS from the internet, target port to the VPC", region, tags: withName(`${name}-alb`) },
            parent,
        );
        const ingress: [string, number, { cidrIpv4: string } | { cidrIpv6: string }][] = [
            ["https-ipv4", 443, { cidrIpv4: "0.0.0.0/0" }],
            ["https-ipv6", 443, { cidrIpv6: "::/0" }],
            ["http-ipv4", 80, { cidrIpv4: "0.0.0.0/0" }],
            ["http-ipv6", 80, { cidrIpv6: "::/0" }],
        ];
        for (const [key, port, source] of ingress) {
            new aws.vpc.SecurityGroupIngressRule(
                `${name}-in-${key}`,
                { securityGroupId: sg.id, ipProtocol: "tcp", fromPort: port, toPort: port, ...source, region, tags: withName(`${name}-in-${key}`) },
                parent,
            );
        }
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-out-targets`,
            {
                securityGroupId: sg.id,
                ipProtocol: "tcp",
                fromPort: args.targetPort,
                toPort: args.targetPort,
                cidrIpv4: args.vpcCidr,
                region,
                tags: withName(`${name}-out-targets`),
            },
            parent,
        );

        // --- Access-log bucket.
        const logsBucket = this.createLogBucket(name, args);

        // --- Load balancer and target group.
        this.loadBalancer = new aws.lb.LoadBalancer(
            `${name}-alb`,
            {
                ...elbNaming(`${name}-alb`),
                loadBalancerType: "application",
                internal: false,
                ipAddressType: "ipv4",
                subnets: args.subnetIds,
                securityGroups: [sg.id],
                dropInvalidHeaderFields: true,
                enableDeletionProtection: args.deletionProtection ?? args.protect,
                accessLogs: { bucket: logsBucket.bucket.bucket, enabled: true },
                region,
                tags: withName(`${name}-alb`),
            },
            // ELB writes a test object when access logs are enabled: the policy must exist first.
            { parent: this, dependsOn: [logsBucket.policy] },
        );
        this.targetGroup = new aws.lb.TargetGroup(
            `${name}-tg`,
            {
                ...elbNaming(`${name}-tg`),
                vpcId: args.vpcId,
                targetType: "ip",
                protocol: "HTTP",
                port: args.targetPort,
                deregistrationDelay: 30,
                healthCheck: {
                    enabled: true,
                    protocol: "HTTP",
                    path: args.healthCheckPath,
                    matcher: "200-399",
                    interval: 15,
                    timeout: 5,
                    healthyThreshold: 2,
                    unhealthyThreshold: 3,
                },
                region,
                tags: withName(`${name}-tg`),
            },
            parent,
        );

        // --- Certificates: the default one holds only names we validate, so it never waits on anyone else's DNS.
        const zoneRecords = new Map<string, aws.route53.Record>();
        const certificate = dnsCertificate(
            `${name}-cert`,
            {
                names: certificateNames(args.domainNames)!,
                zoneDomain: args.zoneDomain,
                hostedZoneId: args.hostedZoneId,
                validate: true,
                zoneRecords,
                recordName: (base) => `${name}-validation-${base}`,
                region,
                tags: args.tags,
            },
            parent,
        );
        this.certificateArn = certificate.validatedArn!;
        // --- Listeners.
        const maintenance = args.maintenance ?? false;
        this.httpsListener = new aws.lb.Listener(
            `${name}-https`,
            {
                loadBalancerArn: this.loadBalancer.arn,
                port: 443,
                protocol: "HTTPS",
                sslPolicy: TLS_POLICY,
                certificateArn: this.certificateArn,
                defaultActions: maintenance
                    ? [{ type: "fixed-response", fixedResponse: maintenanceResponse() }]
                    : [{ type: "forward", targetGroupArn: this.targetGroup.arn }],
                region,
                tags: withName(`${name}-https`),
            },
            parent,
        );
        // Customers' domains: each its own certificate, attached only once its owner has published the records.
        this.externalValidationRecords = listenerCertificates(name, {
            listenerArn: this.httpsListener.arn,
            certificates: (args.extraCertificates ?? []).map((extra) => ({
                key: extra.key,
                names: { domainName: extra.domainName, subjectAlternativeNames: extra.subjectAlternativeNames },
                attach: extra.attach,
            })),
            zoneDomain: args.zoneDomain,
            hostedZoneId: args.hostedZoneId,
            zoneRecords,
            recordName: (base) => `${name}-validation-${base}`,
            region,
            tags: args.tags,
        }, parent).externalRecords;
        // ECS refuses a target group that no load balancer uses, and deployments stall on "unused" targets. In maintenance
        // this rule keeps the group attached without serving anything: 192.0.2.0/24 (RFC 5737) never reaches the internet.
        const keepAttached = maintenance
            ? new aws.lb.ListenerRule(
                  `${name}-keep-attached`,
                  {
                      listenerArn: this.httpsListener.arn,
                      priority: 50000,
                      conditions: [{ sourceIp: { values: ["192.0.2.1/32"] } }],
                      actions: [{ type: "forward", targetGroupArn: this.targetGroup.arn }],
                      region,
                      tags: withName(`${name}-keep-attached`),
                  },
                  parent,
              )
            : undefined;
        new aws.lb.Listener(
            `${name}-http`,
            {
                loadBalancerArn: this.loadBalancer.arn,
                port: 80,
                protocol: "HTTP",
                defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
                region,
                tags: withName(`${name}-http`),
            },
            parent,
        );

        this.arn = this.loadBalancer.arn;
        this.dnsName = this.loadBalancer.dnsName;
        this.zoneId = this.loadBalancer.zoneId;
        this.securityGroupId = sg.id;
        // Resolves only once a listener uses the group, so a service given this ARN is created after that: ECS refuses a
        // target group that no load balancer uses.
        this.targetGroupArn = pulumi
            .all([this.targetGroup.arn, this.httpsListener.arn, keepAttached?.arn])
            .apply(([arn]) => arn);
        this.httpsListenerArn = this.httpsListener.arn;
        this.registerOutputs({
            arn: this.arn,
            dnsName: this.dnsName,
            zoneId: this.zoneId,
            securityGroupId: this.securityGroupId,
            targetGroupArn: this.targetGroupArn,
            httpsListenerArn: this.httpsListenerArn,
            certificateArn: this.certificateArn,
            externalValidationRecords: this.externalValidationRecords,
        });
    }

    /** A private, SSE-S3 bucket that only ELB log delivery may write to, over TLS, with expiring objects. */
    private createLogBucket(name: string, args: LoadBalancerArgs): { bucket: aws.s3.Bucket; policy: aws.s3.BucketPolicy } {
        const parent = { parent: this };
        // The bucket outlives its load balancer, so its safeguards must too: retained with it, never left bare.
        const retained = { parent: this, retainOnDelete: true };
        const region = args.region;
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        const partition = aws.getPartitionOutput({}, parent).partition;
        const effectiveRegion = region ?? aws.getRegionOutput({}, parent).region;
        const delivery = pulumi.all([effectiveRegion, partition]).apply(([r, p]) => elbLogDeliveryPrincipal(r, p));
        const bucket = new aws.s3.Bucket(
            `${name}-logs`,
            // Access logs are audit evidence: a bucket with objects in it is never deleted by Pulumi.
            { forceDestroy: false, region, tags: named(args.tags, `${name}-access-logs`) },
            { parent: this, protect: args.protect, retainOnDelete: true },
        );
        const publicAccess = new aws.s3.BucketPublicAccessBlock(
            `${name}-logs`,
            { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true, region },
            retained,
        );
        const ownership = new aws.s3.BucketOwnershipControls(
            `${name}-logs`,
            { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" }, region },
            retained,
        );
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-logs`,
            // ALB access logs support only SSE-S3 (AES256) destinations, not SSE-KMS.
            { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }], region },
            retained,
        );
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-logs`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        id: "expire-access-logs",
                        status: "Enabled",
                        filter: { prefix: "AWSLogs/" },
                        expiration: { days: args.logRetentionDays },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                    },
                ],
                region,
            },
            retained,
        );
        const document = aws.iam.getPolicyDocumentOutput(
            {
                statements: [
                    {
                        sid: "ElbLogDelivery",
                        // Regions opened before August 2022 (us-east-1, eu-west-1, …) reject the service principal.
                        principals: [{ type: delivery.type, identifiers: [delivery.identifier] }],
                        actions: ["s3:PutObject"],
                        resources: [pulumi.interpolate`${bucket.arn}/AWSLogs/${account}/*`],
                    },
                    {
                        sid: "DenyInsecureTransport",
                        effect: "Deny",
                        principals: [{ type: "*", identifiers: ["*"] }],
                        actions: ["s3:*"],
                        resources: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
                        conditions: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
                    },
                ],
            },
            parent,
        );
        const policy = new aws.s3.BucketPolicy(
            `${name}-logs`,
            { bucket: bucket.id, policy: document.json, region },
            // S3 rejects concurrent bucket-configuration changes; the public-access block must be in place first anyway.
            { ...retained, dependsOn: [publicAccess, ownership] },
        );
        return { bucket, policy };
    }
}

function named(tags: Record<string, string>, name: string): Record<string, string> {
    return { ...tags, Name: name };
}

/** Synchronous checks, so a mistake fails before any resource is registered. */
function validate(args: LoadBalancerArgs): void {
    const problems: string[] = [];
    if (args.domainNames.length === 0) problems.push("domainNames: must name at least one domain");
    else if (!certificateNames(args.domainNames)) problems.push(`domainNames: every name is longer than ACM's 64 characters for a certificate's main name`);
    for (const d of args.domainNames) {
        if (!HOSTNAME.test(d)) problems.push(`domainNames: ${d} is not a lower-case host name (allowed: a.example.com, *.example.com)`);
        else if (!inZone(d, args.zoneDomain)) {
            problems.push(`domainNames: ${d} is outside ${args.zoneDomain}; the default certificate must not wait on another owner's DNS (put it in extraCertificates)`);
        }
    }
    const keys = (args.extraCertificates ?? []).map((e) => e.key);
    const dupKey = keys.find((k, i) => keys.indexOf(k) !== i);
    if (dupKey) problems.push(`extraCertificates: key ${dupKey} is used twice`);
    const bases = args.domainNames.map((d) => d.toLowerCase());
    const dup = bases.find((d, i) => bases.indexOf(d) !== i);
    if (dup) problems.push(`domainNames: ${dup} is listed twice`);
    if (args.subnetIds.length < 2) problems.push(`subnetIds: ${args.subnetIds.length} given (allowed: at least 2, in different AZs)`);
    if (!Number.isInteger(args.targetPort) || args.targetPort < 1 || args.targetPort > 65535) {
        problems.push(`targetPort: ${args.targetPort} is not a port (allowed: 1 to 65535)`);
    }
    if (!args.healthCheckPath.startsWith("/")) problems.push(`healthCheckPath: ${args.healthCheckPath} must start with /`);
    if (!Number.isInteger(args.logRetentionDays) || args.logRetentionDays < 1) {
        problems.push(`logRetentionDays: ${args.logRetentionDays} is not allowed (allowed: a whole number of days, at least 1)`);
    }
    if (problems.length > 0) throw new Error(`load balancer: ${problems.join("; ")}`);
}
