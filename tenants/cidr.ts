import { IPV4_CIDR_PATTERN } from "./schema";

/** An IPv4 block as numbers: first address and prefix length. */
export interface Cidr {
    base: number;
    prefix: number;
}

/** Parses `a.b.c.d/n`; undefined when it is not a valid IPv4 CIDR. */
export function parseCidr(text: string): Cidr | undefined {
    const m = IPV4_CIDR_PATTERN.exec(text);
    if (!m) return undefined;
    const octets = m.slice(1, 5).map(Number);
    const prefix = Number(m[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return undefined;
    const base = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
    return { base, prefix };
}

function mask(prefix: number): number {
    return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function formatCidr(c: Cidr): string {
    return `${[24, 16, 8, 0].map((s) => (c.base >>> s) & 255).join(".")}/${c.prefix}`;
}

/** The block with host bits cleared: `10.1.2.0/16` → `10.1.0.0/16`. */
export function canonical(c: Cidr): Cidr {
    return { base: (c.base & mask(c.prefix)) >>> 0, prefix: c.prefix };
}

export function overlaps(a: Cidr, b: Cidr): boolean {
    const p = Math.min(a.prefix, b.prefix);
    return ((a.base & mask(p)) >>> 0) === ((b.base & mask(p)) >>> 0);
}

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((t) => parseCidr(t)!);

/** True when the whole block lies inside one RFC 1918 range. */
export function isPrivate(c: Cidr): boolean {
    return PRIVATE_RANGES.some((r) => c.prefix >= r.prefix && overlaps(c, r));
}

/**
 * Splits a VPC block into `count` equal subnets of `newBits` more prefix bits, starting at subnet `offset`.
 * Used for the public / private / isolated tiers of every VPC, so layouts are the same everywhere.
 */
export function subnetCidrs(vpc: string, newBits: number, offset: number, count: number): string[] {
    const c = parseCidr(vpc);
    if (!c) throw new Error(`invalid CIDR ${vpc}`);
    const prefix = c.prefix + newBits;
    if (prefix > 28) throw new Error(`${vpc} is too small to split into /${prefix} subnets`);
    const size = 2 ** (32 - prefix);
    if (offset + count > 2 ** newBits) throw new Error(`${vpc} has no room for ${offset + count} /${prefix} subnets`);
    return Array.from({ length: count }, (_, i) => formatCidr({ base: (c.base + (offset + i) * size) >>> 0, prefix }));
}
