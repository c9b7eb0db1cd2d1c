import { resourceOf } from "./discovery/resource-metadata.js";
import type { DpopSetting } from "./dpop/index.js";
import { configError } from "./errors.js";
import type { PrivateKeyInput } from "./grant/key-type.js";
import { secureUrl } from "./http.js";
import type { CommonOptions, DpopOptions, WorkloadIdentityOptions } from "./option-types.js";
import type { AssertionSource, ClientAuthMethod, ClientCredentialsEvent, ClientCredentialsOptions, TokenStore } from "./types.js";
import { defined, scopeList } from "./util.js";

/** Every default, in one place. */
export const DEFAULTS = {
  refreshSkewSeconds: 60,
  timeoutMs: 10_000,
  storeTimeoutMs: 2_000,
  retries: 2,
  retryBudgetMs: 10_000,
  discoveryTtlSeconds: 3600,
  assertionAudience: "issuer",
} as const;

/**
 * The credential, kept apart so that no serialisation of the resolved options can reach it:
 * a secret or key of our own, someone else's client assertion, or a platform JWT as the grant.
 */
export type Credential =
  | { kind: "secret"; secret: string }
  | { kind: "key"; key: PrivateKeyInput; algorithm?: string; keyId?: string }
  | { kind: "assertion"; source: AssertionSource }
  | { kind: "workload"; source: AssertionSource };

/** Options checked and fully defaulted once, up front: what every part of the middleware receives. */
export interface ResolvedOptions {
  /** Always set for client credentials; for workload identity, only where the server wants one. */
  readonly clientId: string | undefined;
  readonly credential: Credential;
  /** The configured method; `undefined` lets the server's metadata decide. */
  readonly authMethod: ClientAuthMethod | undefined;
  readonly assertionAudience: string;
  /** Configured scopes (empty when none are). */
  readonly scopes: readonly string[];
  /** Whether `scope` was set at all: a configured scope wins over challenges and metadata. */
  readonly scopeConfigured: boolean;
  readonly resource: string | false | undefined;
  readonly resourceUrl: string | undefined;
  /** The URL prefix that may receive tokens, when the options fix one. */
  readonly boundary: URL | undefined;
  readonly issuer: string | undefined;
  readonly tokenEndpoint: string | undefined;
  readonly store: TokenStore | undefined;
  readonly refreshSkewMs: number;
  readonly timeoutMs: number;
  readonly storeTimeoutMs: number;
  readonly retries: number;
  readonly retryBudgetMs: number;
  readonly discoveryTtlMs: number;
  readonly allowInsecureRequests: boolean;
  /** Delivers an event to `onEvent`; an observer that throws never breaks authentication. */
  readonly emit: (event: ClientCredentialsEvent) => void;
  /** `onEvent` was given: without it, hot paths may skip building event objects at all. */
  readonly observed: boolean;
  readonly waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  /** DPoP, when on: when to use it and with which key pair (none: generated per instance). */
  readonly dpop: DpopSetting | undefined;
  /** How long a fleet lock's holder may take before a waiter takes over: `timeoutMs`, at least 1 s. */
  readonly lockTtlMs: number;
  /** Identifies this configuration (never its credential) in shared-store keys. */
  readonly fingerprint: readonly unknown[];
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** The options that hold URLs, in the order the fingerprint lists them. */
const URL_OPTIONS = ["resource", "resourceUrl", "issuer", "tokenEndpoint"] as const;

/** Checks every option of {@link withClientCredentials}, so a mistake surfaces before any request, and fills in every default. */
export function resolveOptions(options: ClientCredentialsOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw configError("options are required");
  const { clientId, clientSecret, privateKey, clientAssertion, authMethod } = options;
  if (typeof clientId !== "string" || clientId === "") throw configError("clientId is required");
  const given = [clientSecret, privateKey, clientAssertion].filter((value) => value !== undefined).length;
  if (given !== 1) throw configError("set exactly one of clientSecret, privateKey and clientAssertion");
  if (clientSecret !== undefined && (typeof clientSecret !== "string" || clientSecret === "")) throw configError("clientSecret must be a non-empty string");
  const fits: readonly string[] = clientSecret === undefined ? ["private_key_jwt"] : ["client_secret_basic", "client_secret_post"];
  if (authMethod && !fits.includes(authMethod)) {
    throw configError(`authMethod ${authMethod} needs ${authMethod === "private_key_jwt" ? "privateKey or clientAssertion" : "clientSecret"}`);
  }
  const credential: Credential =
    clientSecret !== undefined
      ? { kind: "secret", secret: clientSecret }
      : privateKey !== undefined
        ? defined({ kind: "key", key: privateKey as PrivateKeyInput, algorithm: options.algorithm || undefined, keyId: options.keyId || undefined })
        : { kind: "assertion", source: assertionSource(clientAssertion, "clientAssertion") };
  return resolveCommon(options, clientId, credential, authMethod);
}

/** Checks every option of {@link withWorkloadIdentity} and fills in every default. */
export function resolveWorkloadOptions(options: WorkloadIdentityOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw configError("options are required");
  const { clientId, assertion } = options;
  if (clientId !== undefined && (typeof clientId !== "string" || clientId === "")) throw configError("clientId must be a non-empty string when set");
  for (const name of ["clientSecret", "privateKey", "clientAssertion", "authMethod"]) {
    if (name in options) throw configError(`withWorkloadIdentity takes no ${name}: the assertion is the credential (use withClientCredentials for ${name})`);
  }
  return resolveCommon(options, clientId, { kind: "workload", source: assertionSource(assertion, "assertion") }, undefined);
}

function assertionSource(source: unknown, name: string): AssertionSource {
  if (typeof source === "function" || (typeof source === "string" && source !== "")) return source as AssertionSource;
  throw configError(`${name} must be a JWT string or a function returning one`);
}

function resolveCommon(
  options: CommonOptions,
  clientId: string | undefined,
  credential: Credential,
  authMethod: ClientAuthMethod | undefined,
): ResolvedOptions {
  const { resource, resourceUrl, issuer, tokenEndpoint, scope, store, onEvent, waitUntil } = options;
  const dpop = dpopSetting(options.dpop);
  if (resource === false && resourceUrl === undefined) {
    throw configError("resource: false needs resourceUrl, the URL prefix that may receive tokens (no resource indicator binds them to a server)");
  }
  const allowInsecureRequests = options.allowInsecureRequests ?? false;
  for (const name of URL_OPTIONS) {
    const value = options[name];
    if (name === "resource" && typeof value === "string" && isOtherUri(value)) checkIndicator(value, resourceUrl);
    else if (typeof value === "string") secureUrl(value, "config", name, allowInsecureRequests);
    else if (value !== undefined && !(name === "resource" && value === false)) throw configError(`${name} must be a URL string`);
  }
  const number = (name: "refreshSkewSeconds" | "timeoutMs" | "storeTimeoutMs" | "retries" | "retryBudgetMs" | "discoveryTtlSeconds") => {
    const value = options[name] ?? DEFAULTS[name];
    if (!(typeof value === "number" && Number.isFinite(value) && value >= 0)) throw configError(`${name} must be a non-negative number`);
    // Timers take at most 2^31 - 1 ms (24.8 days); beyond it they fire at once.
    if (name.endsWith("Ms") && value > MAX_TIMER_MS) throw configError(`${name} must be at most ${MAX_TIMER_MS} (24.8 days)`);
    return value;
  };
  if (store !== undefined && !isStore(store)) throw configError("store must have get, set and delete methods (and acquire with release, or neither)");
  for (const name of ["onEvent", "waitUntil"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") throw configError(`${name} must be a function`);
  }
  const scopes = scopeList(scope);
  const boundaryUrl = resourceUrl ?? (typeof resource === "string" ? resource : undefined);
  const resolved: Omit<ResolvedOptions, "credential"> = {
    clientId,
    authMethod,
    assertionAudience: options.assertionAudience ?? DEFAULTS.assertionAudience,
    scopes,
    scopeConfigured: scope !== undefined,
    resource,
    resourceUrl,
    boundary: boundaryUrl === undefined ? undefined : resourceOf(new URL(boundaryUrl)),
    issuer,
    tokenEndpoint,
    store,
    refreshSkewMs: number("refreshSkewSeconds") * 1000,
    timeoutMs: number("timeoutMs"),
    lockTtlMs: Math.max(number("timeoutMs"), 1000),
    storeTimeoutMs: number("storeTimeoutMs"),
    retries: number("retries"),
    retryBudgetMs: number("retryBudgetMs"),
    discoveryTtlMs: number("discoveryTtlSeconds") * 1000,
    allowInsecureRequests,
    emit: onEvent
      ? (event) => {
          try {
            onEvent(event);
          } catch {
            // An observer must not break authentication.
          }
        }
      : () => {},
    observed: onEvent !== undefined,
    waitUntil,
    dpop,
    // The grant is part of the configuration: a workload's tokens are not a client's.
    fingerprint: [
      clientId ?? null,
      ...URL_OPTIONS.map((name) => options[name] ?? null),
      [...scopes].sort(),
      ...(credential.kind === "workload" ? ["jwt-bearer"] : []),
      // Bound tokens are not bearer tokens; the key's thumbprint joins the cache key when known.
      ...(dpop ? [`dpop:${dpop.mode}`] : []),
    ],
  };
  // Not enumerable: logging or serialising the resolved options never shows the credential.
  return Object.defineProperty(resolved, "credential", { value: credential, enumerable: false }) as ResolvedOptions;
}

/** An absolute URI of a scheme other than http(s): `urn:…`, `api://…`. */
function isOtherUri(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(value) && !/^https?:/i.test(value);
}

/**
 * RFC 8707 §2 allows any absolute URI without a fragment as a resource indicator (`urn:…`,
 * `api://…`); such a one says nothing about where tokens may go, so `resourceUrl` must.
 */
function checkIndicator(value: string, resourceUrl: string | undefined): void {
  if (value.includes("#")) throw configError("resource must not have a fragment (RFC 8707)");
  if (resourceUrl === undefined) {
    throw configError(
      `resource ${JSON.stringify(value.slice(0, 100))} is not a URL that can receive tokens: set resourceUrl to the URL prefix that may (the MCP server's URL)`,
    );
  }
}

function isStore(store: TokenStore): boolean {
  const fn = (name: keyof TokenStore) => typeof store[name] === "function";
  return typeof store === "object" && store !== null && fn("get") && fn("set") && fn("delete") && fn("acquire") === fn("release");
}

/** The `dpop` option; `undefined` when off. The key pair is checked when first used (an async import). */
function dpopSetting(option: CommonOptions["dpop"]): DpopSetting | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true || option === "auto") return { mode: option === true ? "always" : "auto" };
  const { keyPair, algorithm, mode = "always" } = (option ?? {}) as Partial<DpopOptions>;
  if (typeof keyPair !== "object" || !keyPair || (mode !== "always" && mode !== "auto")) throw configError('dpop must be true, "auto" or { keyPair }');
  return { mode, keyPair, algorithm };
}
