/**
 * The recording engine: runs a Pulumi program under the SDK's mock monitor, inside a real
 * `pulumi:pulumi:Stack`, and returns every registered resource (with its inputs, secret
 * paths and resource options) plus the program's resolved outputs.
 *
 * Shared by the tests and by the offline plan tool. Everything is deterministic: two runs
 * of the same program with the same config produce identical records.
 *
 * How it hooks in: `pulumi.runtime.setMocks` installs the SDK's `MockMonitor`; we replace
 * its `registerResource`, `readResource` and `registerResourceOutputs` methods with our own,
 * because `Mocks.newResource` never sees resource options (parent, provider, protect,
 * dependsOn, ...) nor `additionalSecretOutputs`. Invokes still go through `Mocks.call`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as sdkState from "@pulumi/pulumi/runtime/state";
import { DEFAULT_REGION } from "./ids";
import { KNOWN_INVOKES } from "./mockInvokes";
import type { InvokeMock } from "./mockInvokes";
import { mockResourceState } from "./mockResources";
import type { MockedState, ResourceMock } from "./mockResources";
import { awaitOutputDetailed } from "./outputs";
import { SECRET_MARKER, UNKNOWN_MARKER, decodeProperties, decodeValue, isWireSecret, joinPath, maskPaths, wireSecret } from "./serialized";

export { SECRET_MARKER, UNKNOWN_MARKER, maskPaths } from "./serialized";
export { awaitOutput, awaitOutputDetailed } from "./outputs";
export type { DetailedValue } from "./outputs";
export { KNOWN_INVOKES, renderPolicyDocument } from "./mockInvokes";
export type { InvokeMock, InvokeMockContext } from "./mockInvokes";
export { RESOURCE_MOCKS } from "./mockResources";
export type { ResourceMock, ResourceMockContext, ResourceMockResult } from "./mockResources";
export { MOCK_ACCOUNT_ID, DEFAULT_REGION } from "./ids";

/** A structured alias as sent to the engine (either a full URN or a spec relative to the resource). */
export interface RecordedAlias {
  urn?: string;
  name?: string;
  type?: string;
  stack?: string;
  project?: string;
  /** Parent URN of the aliased identity; `noParent` says it had none. */
  parentUrn?: string;
  noParent?: boolean;
}

/** Resource options as the engine receives them. */
export interface RecordedOptions {
  protect: boolean;
  retainOnDelete: boolean;
  /**
   * URNs this resource depends on that are NOT explained by an input property: in practice
   * the explicit `dependsOn` (a component in `dependsOn` expands to its custom children).
   * A `dependsOn` target that is also referenced by an input only shows in `dependencies`.
   */
  dependsOn: string[];
  /** Every direct dependency URN (explicit `dependsOn` plus those implied by inputs). */
  dependencies: string[];
  /** Input property name → URNs its value came from. */
  propertyDependencies: Record<string, string[]>;
  ignoreChanges: string[];
  deleteBeforeReplace: boolean;
  replaceOnChanges: string[];
  additionalSecretOutputs: string[];
  aliases: RecordedAlias[];
  /** `import` id, or null. */
  importId: string | null;
  /** `deletedWith` URN, or null. */
  deletedWith: string | null;
  /** Explicit provider `version` option, or null. */
  version: string | null;
  /** Component `providers` map (package → provider reference). */
  providers: Record<string, string>;
  customTimeouts: { create?: string; update?: string; delete?: string } | null;
}

/** One resource registration (or read) as the engine saw it. */
export interface RecordedResource {
  urn: string;
  /** Type token, e.g. `aws:ec2/vpc:Vpc`, `pulumi:providers:aws`, `tenancy:index:Tenant`. */
  type: string;
  /** Logical name. */
  name: string;
  custom: boolean;
  /** True for `Resource.get` reads (`ReadResource`), false for registrations. */
  read: boolean;
  /** Parent URN; null only for the stack itself. */
  parent: string | null;
  /** Provider reference `urn::id`, or null when the default provider is used (or for components). */
  provider: string | null;
  /** Mocked id for custom resources ("" in preview), null for components. */
  id: string | null;
  /** Plain inputs; secret values kept or masked per `maskSecrets`; unknown parts are {@link UNKNOWN_MARKER}. */
  inputs: Record<string, unknown>;
  /** Paths in `inputs` whose values are secret (see `joinPath`: `password`, `tags.owner`, `rules[0].value`). */
  secretPaths: string[];
  /**
   * Custom resources: the computed outputs the mock added (inputs are not repeated; empty in preview).
   * Components: the outputs passed to `registerOutputs`. Secret values masked per `maskSecrets`.
   */
  outputs: Record<string, unknown>;
  options: RecordedOptions;
}

/** Options for {@link record}. */
export interface RecordOptions {
  project: string;
  stack: string;
  /** Full config keys (`tenancy:domain`) to string values, JSON for objects, exactly as Pulumi passes them. */
  config?: Record<string, string>;
  /** Config keys that are secret (`config.requireSecret` then yields secret Outputs). */
  secretKeys?: string[];
  /** Run as a preview: computed outputs are unknown. Defaults to false. */
  preview?: boolean;
  /** Organization name for `pulumi.getOrganization()`. Defaults to "organization". */
  organization?: string;
  /** Replace secret values in records and outputs with {@link SECRET_MARKER}. Defaults to false (kept, but listed in `secretPaths`). */
  maskSecrets?: boolean;
  /**
   * Keep JavaScript stack traces during the run (errors from the program then carry them).
   * Defaults to false: the SDK captures a stack per promise and an unlimited one per resource (its source position),
   * which makes big runs several times slower.
   */
  stackTraces?: boolean;
  /** Extra or overriding invoke mocks, by token. */
  invokes?: Record<string, InvokeMock>;
  /** Extra or overriding resource mocks, by type token. */
  resources?: Record<string, ResourceMock>;
  /**
   * Answers for `pulumi.StackReference` reads, by stack name: the full `org/project/stack` or only the stack
   * (the reference's last path segment). Values are the referenced stack's outputs; wrap secret ones (or parts)
   * with {@link secretOutput}, or build the whole map from a recording with {@link referenceOutputs}.
   * A reference to a stack not listed fails the run, like an unmocked invoke. Defaults to none.
   */
  stackReferences?: Record<string, Record<string, unknown>>;
  /**
   * Stack name that seeds mock ids and every URN-derived fake value (ARNs, auto-names, passwords) instead of
   * `stack`, so the same resource recorded in the stack `prod` and in `prod.acme` gets identical values.
   * Defaults to `stack`.
   */
  idSeedStack?: string;
}

/** What {@link record} returns. */
export interface RecordResult {
  /** Every registered resource in registration order; the stack is first. */
  resources: RecordedResource[];
  /** The program's returned outputs, fully resolved. */
  outputs: Record<string, unknown>;
  /** Paths in `outputs` whose values are secret. */
  outputSecretPaths: string[];
}

/** Type token of a `pulumi.StackReference` (a read whose id is the referenced stack's name). */
export const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";

/** Marks a value (or a part of one) of a {@link RecordOptions.stackReferences} answer as a secret stack output. */
export function secretOutput(value: unknown): Record<string, unknown> {
  return wireSecret(value);
}

/**
 * A recording's stack outputs as a {@link RecordOptions.stackReferences} answer: every secret path stays secret.
 * The recording must have been taken with secrets kept (`maskSecrets` off): a masked value cannot be handed on.
 */
export function referenceOutputs(result: Pick<RecordResult, "outputs" | "outputSecretPaths">): Record<string, unknown> {
  return wrapSecretPaths(result.outputs, new Set(result.outputSecretPaths), "") as Record<string, unknown>;
}

/** Wraps every value at one of `paths` in a wire secret (paths as {@link joinPath} writes them). */
function wrapSecretPaths(v: unknown, paths: ReadonlySet<string>, path: string): unknown {
  if (path !== "" && paths.has(path)) return wireSecret(v);
  if (paths.size === 0) return v;
  if (Array.isArray(v)) return v.map((e, i) => wrapSecretPaths(e, paths, joinPath(path, i)));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) out[k] = wrapSecretPaths(e, paths, joinPath(path, k));
    return out;
  }
  return v;
}

/** True when a wire value holds a secret anywhere. */
function containsWireSecret(v: unknown): boolean {
  if (isWireSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsWireSecret);
  if (v !== null && typeof v === "object") return Object.values(v).some(containsWireSecret);
  return false;
}

/** A stack program: returns its stack outputs (or nothing). */
export type Program = () => Promise<Record<string, unknown> | void>;

/** Minimal views of the protobuf requests we read; the SDK's generated typings need google-protobuf types. */
interface StructLike {
  toJavaScript(): Record<string, unknown>;
}
interface AliasLike {
  getUrn(): string;
  getSpec(): { getName(): string; getType(): string; getStack(): string; getProject(): string; getParenturn(): string; getNoparent(): boolean } | undefined;
}
interface RegisterResourceRequestLike {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): StructLike | undefined;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getDependenciesList(): string[];
  getProvider(): string;
  getPropertydependenciesMap(): { forEach(cb: (deps: { getUrnsList(): string[] }, key: string) => void): void };
  getDeletebeforereplace(): boolean;
  getVersion(): string;
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getAliasurnsList(): string[];
  getAliasesList(): AliasLike[];
  getImportid(): string;
  getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
  getProvidersMap(): { forEach(cb: (ref: string, key: string) => void): void };
  getReplaceonchangesList(): string[];
  getDeletedwith(): string;
}
interface ReadResourceRequestLike {
  getId(): string;
  getType(): string;
  getName(): string;
  getParent(): string;
  getProperties(): StructLike | undefined;
  getDependenciesList(): string[];
  getProvider(): string;
  getVersion(): string;
  getAdditionalsecretoutputsList(): string[];
}
interface RegisterResourceOutputsRequestLike {
  getUrn(): string;
  getOutputs(): StructLike | undefined;
}
type Callback = (err: Error | null, resp?: unknown) => void;

/** The SDK's MockMonitor instance as we patch it. */
interface MockMonitorLike {
  resources: Map<string, { urn: string; id: string | null; state: Record<string, unknown> }>;
  registerResource(req: RegisterResourceRequestLike, cb: Callback): void;
  readResource(req: ReadResourceRequestLike, cb: Callback): void;
  registerResourceOutputs(req: RegisterResourceOutputsRequestLike, cb: Callback): void;
}

/** SDK internals we need that its typings hide (all exist in @pulumi/pulumi 3.x `runtime/state` and `runtime/settings`). */
interface SdkInternals {
  withLocalStorage<T>(callback: () => Promise<T>): Promise<T>;
  setStackResource(stack: undefined): void;
  waitForRPCs?: () => Promise<void>;
}

const internals: SdkInternals = {
  withLocalStorage: (sdkState as unknown as SdkInternals).withLocalStorage,
  setStackResource: (sdkState as unknown as SdkInternals).setStackResource,
  waitForRPCs: (pulumi.runtime as unknown as SdkInternals).waitForRPCs,
};

/** Per-run state: everything a run accumulates lives here and is dropped when the run ends. */
class RunState {
  readonly resources: RecordedResource[] = [];
  readonly byUrn = new Map<string, RecordedResource>();
  /** Plain state by id, for mocks that look up another resource (a record's zone). */
  readonly stateById = new Map<string, Record<string, unknown>>();
  /** Provider reference (`urn::id`) → region, for AWS providers. */
  readonly providerRegions = new Map<string, string>();
  /** Errors from mocks and registrations; the first one fails the run even if the program swallowed it. */
  readonly errors: unknown[] = [];
  readonly invokes: Record<string, InvokeMock>;

  constructor(readonly opts: RecordOptions) {
    this.invokes = { ...KNOWN_INVOKES, ...opts.invokes };
  }

  /** The `aws:region` config value, if set. */
  configRegion(): string | undefined {
    return this.opts.config?.["aws:region"] ?? this.opts.config?.["aws:config:region"];
  }

  /**
   * The mocked state of a StackReference to `name` (`org/project/stack` or `stack`): the referenced stack's outputs
   * (secret ones as wire secrets, as the engine hands them) and `secretOutputNames`, the top-level outputs that
   * hold a secret. Matched by the full name first, then by its last path segment; an unknown stack throws.
   */
  stackReference(name: string): MockedState {
    const answers = this.opts.stackReferences ?? {};
    const short = name.split("/").pop() ?? name;
    const outputs = Object.hasOwn(answers, name) ? answers[name] : Object.hasOwn(answers, short) ? answers[short] : undefined;
    if (outputs === undefined) {
      const known = Object.keys(answers).sort();
      throw new Error(`StackReference not mocked: ${name} (known: ${known.length > 0 ? known.join(", ") : "none"})`);
    }
    const secretOutputNames = Object.keys(outputs).filter((k) => containsWireSecret(outputs[k])).sort();
    return { id: name, outputs: { name, outputs, secretOutputNames }, secretOutputs: [] };
  }

  /** Effective region: explicit argument, else the provider's, else config, else us-east-1. */
  regionFor(explicit: unknown, providerRef: string): string {
    if (typeof explicit === "string" && explicit !== "" && explicit !== UNKNOWN_MARKER) return explicit;
    return this.providerRegions.get(providerRef) ?? this.configRegion() ?? DEFAULT_REGION;
  }
}

/**
 * The URN the Pulumi engine assigns: the parent's full qualified type chain joined with `$`,
 * except that the root stack is left out (the SDK's MockMonitor gets both of these wrong).
 */
function newUrn(project: string, stack: string, parent: string, type: string, name: string): string {
  const parentType = parent ? (parent.split("::")[2] ?? "") : "";
  const qualified = parentType === "" || parentType === ROOT_STACK_TYPE ? type : `${parentType}$${type}`;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** Reads the structured aliases of a request, falling back to plain alias URNs. */
function readAliases(req: RegisterResourceRequestLike): RecordedAlias[] {
  const out: RecordedAlias[] = [];
  for (const a of req.getAliasesList()) {
    const spec = a.getSpec();
    if (a.getUrn()) out.push({ urn: a.getUrn() });
    else if (spec) {
      const alias: RecordedAlias = {};
      if (spec.getName()) alias.name = spec.getName();
      if (spec.getType()) alias.type = spec.getType();
      if (spec.getStack()) alias.stack = spec.getStack();
      if (spec.getProject()) alias.project = spec.getProject();
      if (spec.getParenturn()) alias.parentUrn = spec.getParenturn();
      if (spec.getNoparent()) alias.noParent = true;
      out.push(alias);
    }
  }
  for (const urn of req.getAliasurnsList()) out.push({ urn });
  return out;
}

/** Options of a RegisterResource request, in plain form. */
function readOptions(req: RegisterResourceRequestLike): RecordedOptions {
  const propertyDependencies: Record<string, string[]> = {};
  const implied = new Set<string>();
  req.getPropertydependenciesMap().forEach((deps, key) => {
    const urns = deps.getUrnsList();
    propertyDependencies[key] = urns;
    for (const u of urns) implied.add(u);
  });
  const providers: Record<string, string> = {};
  req.getProvidersMap().forEach((ref, key) => (providers[key] = ref));
  const timeouts = req.getCustomtimeouts();
  const customTimeouts =
    timeouts && (timeouts.getCreate() || timeouts.getUpdate() || timeouts.getDelete())
      ? { create: timeouts.getCreate() || undefined, update: timeouts.getUpdate() || undefined, delete: timeouts.getDelete() || undefined }
      : null;
  const dependencies = req.getDependenciesList();
  return {
    protect: req.getProtect() === true,
    retainOnDelete: req.getRetainondelete() === true,
    dependsOn: dependencies.filter((u) => !implied.has(u)),
    dependencies,
    propertyDependencies,
    ignoreChanges: req.getIgnorechangesList(),
    deleteBeforeReplace: req.getDeletebeforereplace(),
    replaceOnChanges: req.getReplaceonchangesList(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    aliases: readAliases(req),
    importId: req.getImportid() || null,
    deletedWith: req.getDeletedwith() || null,
    version: req.getVersion() || null,
    providers,
    customTimeouts,
  };
}

/** Options for a read: only dependencies and provider-related fields exist. */
function readOnlyOptions(req: ReadResourceRequestLike): RecordedOptions {
  return {
    protect: false,
    retainOnDelete: false,
    dependsOn: req.getDependenciesList(),
    dependencies: req.getDependenciesList(),
    propertyDependencies: {},
    ignoreChanges: [],
    deleteBeforeReplace: false,
    replaceOnChanges: [],
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    aliases: [],
    importId: null,
    deletedWith: null,
    version: req.getVersion() || null,
    providers: {},
    customTimeouts: null,
  };
}

/** What one registration or read needs to compute the recorded entry and the returned state. */
interface Registration {
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  providerRef: string;
  raw: Record<string, unknown>;
  additionalSecretOutputs: string[];
  /** Fixed id for reads; registrations get a mocked one. */
  readId?: string;
}

/**
 * Records one resource and computes the wire state to hand back to the SDK:
 * the inputs echoed as-is (secret envelopes and all) with the mocked outputs on top.
 */
function registerInRun(run: RunState, reg: Registration, options: RecordedOptions): { urn: string; id: string; state: Record<string, unknown> } {
  const { project, stack, preview, maskSecrets } = run.opts;
  const urn = newUrn(project, stack, reg.parent, reg.type, reg.name);
  const decoded = decodeProperties(reg.raw, { unknownAs: UNKNOWN_MARKER });
  const isProvider = reg.type.startsWith("pulumi:providers:");

  let mocked: MockedState = { id: "", outputs: {}, secretOutputs: [] };
  if (reg.type === STACK_REFERENCE_TYPE && reg.readId !== undefined) {
    mocked = run.stackReference(reg.readId);
  } else if (reg.custom && (!preview || isProvider || reg.readId !== undefined)) {
    const seedStack = run.opts.idSeedStack;
    mocked = mockResourceState(
      {
        type: reg.type,
        name: reg.name,
        // Fake values derive from the URN; seeding with another stack name makes them the same across layouts.
        urn: seedStack === undefined || seedStack === stack ? urn : newUrn(project, seedStack, reg.parent, reg.type, reg.name),
        inputs: decoded.value,
        region: run.regionFor(decoded.value["region"], reg.providerRef),
        stateById: (id) => run.stateById.get(id),
      },
      run.opts.resources,
    );
  }
  const id = reg.readId ?? mocked.id;
  if (reg.type === "pulumi:providers:aws") {
    run.providerRegions.set(`${urn}::${id}`, run.regionFor(decoded.value["region"], ""));
  }

  const secretOutputs = new Set([...mocked.secretOutputs, ...reg.additionalSecretOutputs]);
  const state: Record<string, unknown> = { ...reg.raw };
  for (const [k, v] of Object.entries(mocked.outputs)) state[k] = v;
  for (const k of secretOutputs) {
    if (state[k] !== undefined && !isWireSecret(state[k])) state[k] = wireSecret(state[k]);
  }
  if (reg.custom && id !== "") run.stateById.set(id, { ...decoded.value, ...mocked.outputs });

  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(mocked.outputs)) {
    // Mocked outputs may hold wire secrets (a StackReference's): record them plain, masked on request.
    outputs[k] = maskSecrets && secretOutputs.has(k) ? SECRET_MARKER : decodeValue(v, k, [], { maskSecrets });
  }
  const entry: RecordedResource = {
    urn,
    type: reg.type,
    name: reg.name,
    custom: reg.custom,
    read: reg.readId !== undefined,
    parent: reg.parent || null,
    provider: reg.providerRef || null,
    id: reg.custom ? id : null,
    inputs: maskSecrets ? maskPaths(decoded.value, decoded.secretPaths) : decoded.value,
    secretPaths: decoded.secretPaths,
    outputs,
    options,
  };
  run.resources.push(entry);
  run.byUrn.set(urn, entry);
  return { urn, id, state };
}

/** Builds the SDK Mocks: resources never reach `newResource` (we patch the monitor); invokes go through `call`. */
function makeMocks(run: RunState): pulumi.runtime.Mocks {
  return {
    newResource: () => {
      throw new Error("recorder: newResource is bypassed; the patched monitor handles registrations");
    },
    call: (args: pulumi.runtime.MockCallArgs) => {
      const mock = run.invokes[args.token];
      if (mock === undefined) {
        const err = new Error(`Mock not implemented: ${args.token}`);
        run.errors.push(err);
        throw err;
      }
      // Invoke args arrive deserialized (secret envelopes, not Outputs); decode to plain values.
      const plain = decodeProperties(args.inputs as Record<string, unknown>).value;
      try {
        return mock({ token: args.token, args: plain, provider: args.provider ?? "", region: run.regionFor(plain["region"], args.provider ?? "") });
      } catch (err) {
        run.errors.push(err);
        throw err;
      }
    },
  };
}

/** Replaces the MockMonitor's resource methods with recording ones. */
function patchMonitor(run: RunState): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitorLike | undefined;
  if (monitor === undefined) throw new Error("recorder: setMocks did not install a monitor");

  /** Runs a handler, reporting failures both to the SDK callback and to the run. */
  const guarded = (cb: Callback, fn: () => unknown) => {
    try {
      cb(null, fn());
    } catch (err) {
      run.errors.push(err);
      cb(err instanceof Error ? err : new Error(String(err)));
    }
  };

  monitor.registerResource = (req, cb) =>
    guarded(cb, () => {
      const { urn, id, state } = registerInRun(
        run,
        {
          type: req.getType(),
          name: req.getName(),
          parent: req.getParent(),
          custom: req.getCustom(),
          providerRef: req.getProvider(),
          raw: req.getObject()?.toJavaScript() ?? {},
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        },
        readOptions(req),
      );
      monitor.resources.set(urn, { urn, id: id || null, state });
      // Duck-typed response: the SDK only calls these getters; skipping protobuf conversion keeps 10k-resource runs fast.
      return {
        getUrn: () => urn,
        getId: () => id,
        getObject: () => ({ toJavaScript: () => state }),
        getPropertydependenciesMap: () => undefined,
        getResult: () => 0,
      };
    });

  monitor.readResource = (req, cb) =>
    guarded(cb, () => {
      const { urn, id, state } = registerInRun(
        run,
        {
          type: req.getType(),
          name: req.getName(),
          parent: req.getParent(),
          custom: true,
          providerRef: req.getProvider(),
          raw: req.getProperties()?.toJavaScript() ?? {},
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          readId: req.getId(),
        },
        readOnlyOptions(req),
      );
      monitor.resources.set(urn, { urn, id, state });
      return { getUrn: () => urn, getProperties: () => ({ toJavaScript: () => state }) };
    });

  monitor.registerResourceOutputs = (req, cb) =>
    guarded(cb, () => {
      const entry = run.byUrn.get(req.getUrn());
      if (entry === undefined) throw new Error(`recorder: registerOutputs for unknown resource ${req.getUrn()}`);
      const decoded = decodeProperties(req.getOutputs()?.toJavaScript() ?? {}, { unknownAs: UNKNOWN_MARKER });
      entry.outputs = run.opts.maskSecrets ? maskPaths(decoded.value, decoded.secretPaths) : decoded.value;
      return {};
    });
}

/**
 * Swallows unhandled rejections while a run is in flight and records them as run errors.
 *
 * A failed registration surfaces only as an unhandled rejection (the SDK re-throws it
 * detached, expecting the language host's process handler). Other listeners (vitest's)
 * are detached meanwhile so a failed run is reported once, as `record`'s rejection.
 */
async function captureRejections<T>(run: RunState, fn: () => Promise<T>): Promise<T> {
  const previous = process.listeners("unhandledRejection");
  const handler = (reason: unknown) => run.errors.push(reason);
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", handler);
  try {
    return await fn();
  } finally {
    // Let rejections from the last settled promises be delivered before the handlers are restored.
    await new Promise((resolve) => setImmediate(resolve));
    process.off("unhandledRejection", handler);
    for (const l of previous) process.on("unhandledRejection", l);
  }
}

/** Waits until no registration, invoke or registerOutputs is pending. */
async function settle(): Promise<void> {
  if (internals.waitForRPCs) await internals.waitForRPCs();
  // Outputs resolve on later turns of the event loop; a few idle turns let late registrations start.
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (internals.waitForRPCs) await internals.waitForRPCs();
  }
}

/**
 * Drops what a finished run would otherwise keep alive until the next run: the SDK's copy of
 * every state (its module-level monitor outlives the run), our lookup maps (the patched monitor
 * closes over them), and `globalThis.stackResource`, which reaches every resource object.
 */
function releaseRun(run: RunState): void {
  (pulumi.runtime.getMonitor() as unknown as MockMonitorLike | undefined)?.resources.clear();
  run.stateById.clear();
  run.byUrn.clear();
  run.providerRegions.clear();
  internals.setStackResource(undefined);
}

/** Runs are serialized: the SDK's unhandled-rejection plumbing and module-level monitor are process-global. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `program` as a Pulumi stack under mocks and records every resource.
 *
 * Each run gets a fresh SDK state store (settings, config, stack resource, pending-RPC
 * tracker, callbacks, package refs) via the SDK's own per-run async-local storage, the
 * same isolation the Automation API uses for inline programs. Concurrent calls are queued.
 *
 * Rejects with the first error of the run: a program exception, a failed registration,
 * or an unmocked invoke (`Mock not implemented: <token>`), even if the program swallowed it.
 */
export function record(program: Program, opts: RecordOptions): Promise<RecordResult> {
  const next = queue.then(() => runOnce(program, opts));
  queue = next.catch(() => undefined);
  return next;
}

/** One isolated run; see {@link record}. */
async function runOnce(program: Program, opts: RecordOptions): Promise<RecordResult> {
  const run = new RunState(opts);
  return internals.withLocalStorage(async () => {
    await pulumi.runtime.setMocks(makeMocks(run), opts.project, opts.stack, opts.preview ?? false, opts.organization ?? "organization");
    patchMonitor(run);
    pulumi.runtime.setAllConfig(opts.config ?? {}, opts.secretKeys ?? []);

    // The SDK captures `new Error().stack` for every promise and resource; with source maps on (tsx,
    // vitest) that dominates large runs, so stacks are off unless asked for.
    const stackTraceLimit = Error.stackTraceLimit;
    // Every resource also captures an unlimited stack for its source position (`Resource.callsites`), which the
    // records never show: skipped too. A static of the SDK's Resource class, restored when the run ends.
    const resourceClass = pulumi.Resource as unknown as { callsites: () => unknown[] };
    const callsites = resourceClass.callsites;
    if (!opts.stackTraces) {
      Error.stackTraceLimit = 0;
      resourceClass.callsites = () => [];
    }

    let programError: unknown;
    // Keep the program's own return value: the stack's lifted copy has lost per-output secretness.
    let stackOutputs: Record<string, unknown> = {};
    await captureRejections(run, async () => {
      try {
        await pulumi.runtime.runInPulumiStack(async () => {
          stackOutputs = (await program()) ?? {};
          return stackOutputs;
        });
      } catch (err) {
        programError = err;
      }
      await settle();
    }).finally(() => {
      Error.stackTraceLimit = stackTraceLimit;
      resourceClass.callsites = callsites;
    });
    releaseRun(run);

    if (run.errors.length > 0) throw run.errors[0];
    if (programError !== undefined) throw programError;

    const resolved = await awaitOutputDetailed(stackOutputs);
    const outputs = (resolved.value ?? {}) as Record<string, unknown>;
    return {
      resources: run.resources,
      outputs: opts.maskSecrets ? maskPaths(outputs, resolved.secretPaths) : outputs,
      outputSecretPaths: resolved.secretPaths,
    };
  });
}

/** The recorded resources of one type, in registration order (a convenience for tests). */
export function ofType(result: RecordResult, type: string): RecordedResource[] {
  return result.resources.filter((r) => r.type === type);
}

/** The single recorded resource with this type and logical name; throws when absent or ambiguous. */
export function findResource(result: RecordResult, type: string, name: string): RecordedResource {
  const found = result.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return found[0]!;
}

/** A record's inputs with every secret path replaced by {@link SECRET_MARKER}. */
export function maskedInputs(resource: RecordedResource): Record<string, unknown> {
  return maskPaths(resource.inputs, resource.secretPaths);
}
