/**
 * Resolving Pulumi Outputs to plain values for assertions and reports.
 */
import * as pulumi from "@pulumi/pulumi";
import { UNKNOWN_MARKER, joinPath } from "./serialized";

/** The SDK-internal surface of an Output we rely on (present on every OutputImpl since SDK 1.x). */
interface OutputInternals {
  promise(withUnknowns?: boolean): Promise<unknown>;
  isKnown: Promise<boolean>;
  isSecret: Promise<boolean>;
}

/** A resolved value plus what the SDK knew about it. */
export interface DetailedValue<T> {
  /** The plain value; unknown parts (preview only) are {@link UNKNOWN_MARKER}, a wholly unknown value is `undefined`. */
  value: T;
  /** True when any part of the value was secret. */
  secret: boolean;
  /** False when any part of the value was unknown (only in preview). */
  known: boolean;
  /** Paths of the secret parts, "" for the value itself (see `joinPath`). */
  secretPaths: string[];
}

/** Resolves an Output (or a structure containing Outputs and Promises) to a plain value. */
export async function awaitOutput<T>(o: pulumi.Input<T>): Promise<T> {
  return (await awaitOutputDetailed(o)).value;
}

/** Like {@link awaitOutput}, also reporting secretness and knownness, with exact secret paths. */
export async function awaitOutputDetailed<T>(o: pulumi.Input<T>): Promise<DetailedValue<T>> {
  const state = { secretPaths: [] as string[], known: true };
  const value = (await resolveDeep(o, "", state)) as T;
  return { value, secret: state.secretPaths.length > 0, known: state.known, secretPaths: state.secretPaths };
}

/** Walks plain objects and arrays, awaiting every Output and Promise inside. */
async function resolveDeep(v: unknown, path: string, state: { secretPaths: string[]; known: boolean }): Promise<unknown> {
  if (v === null || v === undefined || typeof v !== "object") return v;
  if (pulumi.isUnknown(v)) {
    state.known = false;
    return path === "" ? undefined : UNKNOWN_MARKER;
  }
  if (pulumi.Output.isInstance(v)) {
    const out = v as unknown as OutputInternals;
    const [inner, known, secret] = await Promise.all([out.promise(true), out.isKnown, out.isSecret]);
    if (secret) state.secretPaths.push(path);
    if (!known) {
      state.known = false;
      return path === "" ? undefined : UNKNOWN_MARKER;
    }
    // Secrets below an already-secret node add nothing: the whole subtree is secret.
    const child = secret ? { secretPaths: [], known: true } : state;
    const resolved = await resolveDeep(inner, path, child);
    if (!child.known) state.known = false;
    return resolved;
  }
  if (v instanceof Promise) return resolveDeep(await v, path, state);
  if (pulumi.Resource.isInstance(v)) return resolveDeep(v.urn, path, state);
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (let i = 0; i < v.length; i++) out.push(await resolveDeep(v[i], joinPath(path, i), state));
    return out;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
    const r = await resolveDeep(e, joinPath(path, k), state);
    if (r !== undefined) out[k] = r;
  }
  return out;
}
