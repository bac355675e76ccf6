/**
 * Conversions between the SDK's wire form of resource properties (the JavaScript
 * view of a `google.protobuf.Struct`, with signature objects for secrets, unknowns,
 * resource references and assets) and the plain values the recorder hands out.
 *
 * We walk the wire form ourselves instead of calling `runtime.deserializeProperties`
 * because the SDK hoists secretness to the top-level property; we want exact paths.
 */
import * as pulumi from "@pulumi/pulumi";

const SIG = pulumi.runtime.specialSigKey;

import { joinPath, SECRET_MARKER } from "./paths";

export { joinPath, maskPaths, SECRET_MARKER } from "./paths";

/** Placeholder written where a value is unknown (only happens in preview runs). */
export const UNKNOWN_MARKER = "[unknown]";

/** A plain value decoded from the wire, plus the paths of every secret found in it. */
export interface Decoded<T = unknown> {
  value: T;
  /** Paths like `password`, `tags.owner`, `statements[0].principals` (see {@link joinPath}). */
  secretPaths: string[];
}

/** How to render secrets and unknowns while decoding. */
export interface DecodeOptions {
  /** Replace secret values with {@link SECRET_MARKER} instead of keeping them. */
  maskSecrets?: boolean;
  /** What to write for an unknown value: the marker (for records) or `undefined` (for mock computations). */
  unknownAs?: typeof UNKNOWN_MARKER | undefined;
}

/** Decodes a whole property map (a RegisterResource `object`) into plain values. */
export function decodeProperties(raw: Record<string, unknown>, opts: DecodeOptions = {}): Decoded<Record<string, unknown>> {
  const secretPaths: string[] = [];
  const value: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    const v = decodeValue(raw[key], joinPath("", key), secretPaths, opts);
    if (v !== undefined) value[key] = v;
  }
  return { value, secretPaths };
}

/** Decodes one wire value, appending secret paths to `acc`. */
export function decodeValue(v: unknown, path: string, acc: string[], opts: DecodeOptions): unknown {
  if (v === pulumi.runtime.unknownValue) return opts.unknownAs;
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((e, i) => decodeValue(e, joinPath(path, i), acc, opts));
  const obj = v as Record<string, unknown>;
  switch (obj[SIG]) {
    case undefined:
      break;
    case pulumi.runtime.specialSecretSig: {
      acc.push(path);
      // Decode the inner value with a throwaway accumulator: the whole subtree is already secret.
      const inner = decodeValue(obj["value"], path, [], opts);
      return opts.maskSecrets ? SECRET_MARKER : inner;
    }
    case pulumi.runtime.specialResourceSig:
      // A resource reference: the URN says everything a reader of the record needs.
      return obj["urn"];
    case pulumi.runtime.specialAssetSig:
      return { asset: pickDefined(obj, ["path", "text", "uri"]) };
    case pulumi.runtime.specialArchiveSig:
      return { archive: pickDefined(obj, ["path", "uri", "assets"]) };
    case pulumi.runtime.specialOutputValueSig: {
      if (!("value" in obj)) return opts.unknownAs;
      if (obj["secret"] === true) {
        acc.push(path);
        const inner = decodeValue(obj["value"], path, [], opts);
        return opts.maskSecrets ? SECRET_MARKER : inner;
      }
      return decodeValue(obj["value"], path, acc, opts);
    }
    default:
      throw new Error(`unrecognized property signature ${String(obj[SIG])} at ${path}`);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const d = decodeValue(obj[key], joinPath(path, key), acc, opts);
    if (d !== undefined) out[key] = d;
  }
  return out;
}

/** Wraps a plain value in the wire form of a secret. */
export function wireSecret(value: unknown): Record<string, unknown> {
  return { [SIG]: pulumi.runtime.specialSecretSig, value };
}

/** True when a wire value is already a secret envelope. */
export function isWireSecret(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG] === pulumi.runtime.specialSecretSig;
}


/** Copies the listed keys that are present. */
function pickDefined(obj: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
