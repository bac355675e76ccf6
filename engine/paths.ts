/**
 * Property paths in the recorder's `secretPaths` format, and masking by them. Free of the Pulumi SDK, so that tools
 * reading plans (plan:diff) share them without loading it.
 */

/** Placeholder written where a secret value is masked. */
export const SECRET_MARKER = "[secret]";

/** Appends an object key or array index to a path, quoting keys that are not identifiers. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  const simple = /^[A-Za-z_$][\w$-]*$/.test(key);
  if (!simple) return `${base}[${JSON.stringify(key)}]`;
  return base === "" ? key : `${base}.${key}`;
}

/**
 * Returns a copy of `value` with every path in `secretPaths` replaced by {@link SECRET_MARKER}.
 * Used to mask a record that was taken with secrets kept.
 */
export function maskPaths<T>(value: T, secretPaths: readonly string[]): T {
  if (secretPaths.length === 0) return value;
  const set = new Set(secretPaths);
  const walk = (v: unknown, path: string): unknown => {
    if (path !== "" && set.has(path)) return SECRET_MARKER;
    if (Array.isArray(v)) return v.map((e, i) => walk(e, joinPath(path, i)));
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, e] of Object.entries(v)) out[k] = walk(e, joinPath(path, k));
      return out;
    }
    return v;
  };
  return walk(value, "") as T;
}
