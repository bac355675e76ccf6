/**
 * Deterministic fake identifiers for mocked resources.
 *
 * Every value is derived from a seed (usually the URN) with SHA-1, so two runs of
 * the same program produce byte-identical records and snapshots stay stable.
 */
import { createHash } from "crypto";

/** The fake AWS account every mocked ARN and invoke uses. */
export const MOCK_ACCOUNT_ID = "123456789012";

/** Region used when neither the resource, its provider nor config names one. */
export const DEFAULT_REGION = "us-east-1";

/** Lowercase hex digest of `seed`, at most 40 characters (SHA-1 is fast and plenty for fakes). */
export function hexHash(seed: string, length = 16): string {
  const hex = createHash("sha1").update(seed).digest("hex");
  let out = hex;
  // Extend deterministically when a caller needs more than one digest's worth (e.g. sha256-looking digests).
  for (let i = 1; out.length < length; i++) {
    out += createHash("sha1").update(`${seed}#${i}`).digest("hex");
  }
  return out.slice(0, length);
}

/** A UUID-shaped deterministic string (KMS key ids, ACM certificate ids, provider ids). */
export function fakeUuid(seed: string): string {
  const h = hexHash(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Pulumi-style auto-name: the logical name plus a 7-character suffix. */
export function autoName(name: string, seed: string): string {
  return `${name}-${hexHash(seed, 7)}`;
}

/** A deterministic alphanumeric string of `length` characters (fake passwords, random strings). */
export function fakeString(seed: string, length: number, alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"): string {
  const hex = hexHash(seed, Math.max(2, length * 2));
  let out = "";
  for (let i = 0; i < length; i++) {
    out += alphabet[parseInt(hex.slice(i * 2, i * 2 + 2), 16) % alphabet.length];
  }
  return out;
}
