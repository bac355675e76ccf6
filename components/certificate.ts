import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { validationBase, validationPlan, type CertificateNames } from "../tenants/certificates";

/** A DNS record that proves control of a name outside our hosted zone; its owner must create it. */
export interface ExternalValidationRecord {
    /** Certificate name the record validates, e.g. `app.acme.com` (a wildcard shares its apex's record). */
    domainName: string;
    /** Record name, e.g. `_x1.app.acme.com.` */
    name: string;
    /** Record type, always `CNAME` for ACM. */
    type: string;
    /** Record value, e.g. `_x2.acm-validations.aws.` */
    value: string;
    /** The certificate waiting for it: `aws acm describe-certificate --certificate-arn <it>` shows when it is issued. */
    certificateArn: string;
}

/** How long a certificate whose owner says its records are published may take to be issued before the update fails. */
export const VERIFIED_VALIDATION_TIMEOUT = "30m";

export interface DnsCertificateArgs {
    names: CertificateNames;
    /** Domain of `hostedZoneId`: validation records of names equal to or under it are written there. */
    zoneDomain: string;
    hostedZoneId: string;
    /**
     * Wait until ACM has issued the certificate. Set it only when every record exists or will: names in the zone, and
     * names outside it whose owner has published theirs (the tenant file says `verified`). Then the wait is capped at
     * {@link VERIFIED_VALIDATION_TIMEOUT} when out-of-zone names are involved, instead of ACM's 75 minutes.
     */
    validate: boolean;
    /**
     * In-zone validation records this owner already has, by validation base; records for other names are created and
     * added. ACM gives one name the same record on every certificate of the account: one resource per name and owner,
     * and retained on delete, so removing one owner's never breaks another's renewal.
     */
    zoneRecords: Map<string, aws.route53.Record>;
    /** Logical name of the record of a validation base, e.g. `acme-cert-validation-acme.saas.example.com`. */
    recordName: (base: string) => string;
    /** AWS v7 per-resource region of the certificate (Route 53 is global). Defaults to the provider's region. */
    region?: string;
    tags: Record<string, string>;
}

export interface DnsCertificate {
    certificate: aws.acm.Certificate;
    /** The certificate's ARN once ACM has issued it; only when `validate`. */
    validatedArn?: pulumi.Output<string>;
    /** Records the owners of out-of-zone names must publish (empty when every name is in the zone). */
    externalRecords: pulumi.Output<ExternalValidationRecord[]>;
}

/**
 * An ACM certificate validated by DNS: records for in-zone names are written to the hosted zone, records for other
 * names are returned for their owners, and a `CertificateValidation` waits only when `validate` says it may.
 * The certificate's logical name is `name`; its validation's is `${name}-validation`.
 */
export function dnsCertificate(name: string, args: DnsCertificateArgs, opts: pulumi.CustomResourceOptions): DnsCertificate {
    const { names, region } = args;
    const certificate = new aws.acm.Certificate(
        name,
        {
            domainName: names.domainName,
            ...(names.subjectAlternativeNames.length > 0 ? { subjectAlternativeNames: names.subjectAlternativeNames } : {}),
            validationMethod: "DNS",
            region,
            tags: { ...args.tags, Name: name },
        },
        opts,
    );
    const optionFor = (domainName: string) =>
        certificate.domainValidationOptions.apply((options) => {
            const o = options.find((x) => x.domainName === domainName);
            if (!o) throw new Error(`certificate ${name}: ACM returned no validation record for ${domainName}`);
            return o;
        });
    const plan = validationPlan([names.domainName, ...names.subjectAlternativeNames], args.zoneDomain);
    const ours = plan.inZone.map((d) => {
        const base = validationBase(d).toLowerCase();
        const existing = args.zoneRecords.get(base);
        if (existing) return existing;
        const option = optionFor(d);
        const record = new aws.route53.Record(
            args.recordName(base),
            {
                zoneId: args.hostedZoneId,
                name: option.resourceRecordName,
                type: option.resourceRecordType,
                records: [option.resourceRecordValue],
                ttl: 60,
                // ACM gives a name one record per account: take over one a former certificate of the name left behind.
                allowOverwrite: true,
            },
            // ... and so leave it behind: another certificate of the name (a tenant taking over a domain, a tier move)
            // may be using it, and deleting it would silently fail that certificate's renewal months later.
            { ...opts, retainOnDelete: true },
        );
        args.zoneRecords.set(base, record);
        return record;
    });
    const theirs = plan.external;
    const externalRecords = pulumi.all(
        theirs.map((domainName) =>
            pulumi.all([optionFor(domainName), certificate.arn]).apply(([o, certificateArn]) => ({
                domainName, name: o.resourceRecordName, type: o.resourceRecordType, value: o.resourceRecordValue, certificateArn,
            })),
        ),
    );
    if (!args.validate) return { certificate, externalRecords };
    // Every record of the certificate: the provider refuses a list that misses one ("missing ... DNS validation record").
    const fqdns = [...ours.map((r) => r.fqdn), ...theirs.map((d) => optionFor(d).resourceRecordName)];
    const validation = new aws.acm.CertificateValidation(
        `${name}-validation`,
        { certificateArn: certificate.arn, validationRecordFqdns: fqdns, region },
        theirs.length > 0 ? { ...opts, customTimeouts: { create: VERIFIED_VALIDATION_TIMEOUT } } : opts,
    );
    return { certificate, validatedArn: validation.certificateArn, externalRecords };
}

/** One certificate beside a listener's default one: see {@link listenerCertificates}. */
export interface ListenerCertificateSpec {
    /** Names its resources: `<name>-cert-<key>`, `<name>-cert-<key>-attachment`. */
    key: string;
    names: CertificateNames;
    /** Wait for ACM and attach it to the listener: only when every validation record exists (in-zone, or `verified`). */
    attach: boolean;
}

export interface ListenerCertificatesArgs extends Omit<DnsCertificateArgs, "names" | "validate"> {
    /** The HTTPS listener the certificates are attached to. */
    listenerArn: pulumi.Input<string>;
    certificates: ListenerCertificateSpec[];
}

/**
 * Certificates a listener carries besides its default one (a load balancer's customer domains, a shared or hybrid
 * tenant's names on the shared listener): each requested at once with its out-of-zone records returned, and waited for
 * and attached only when `attach`. A replacement (new certificate ARN) is attached before the old one is removed
 * (Pulumi's default create-before-delete); never reuse a pair under a new logical name: the old resource's delete would
 * remove the very pair the new one added (the provider's ID is listener ARN + certificate ARN).
 */
export function listenerCertificates(
    name: string, args: ListenerCertificatesArgs, opts: pulumi.CustomResourceOptions,
): { externalRecords: pulumi.Output<ExternalValidationRecord[]> } {
    const { listenerArn, certificates, ...common } = args;
    const records = certificates.map((c) => {
        const cert = dnsCertificate(`${name}-cert-${c.key}`, { ...common, names: c.names, validate: c.attach }, opts);
        if (cert.validatedArn) {
            new aws.lb.ListenerCertificate(`${name}-cert-${c.key}-attachment`, { listenerArn, certificateArn: cert.validatedArn, region: args.region }, opts);
        }
        return cert.externalRecords;
    });
    return { externalRecords: pulumi.all(records).apply((lists) => lists.flat()) };
}
