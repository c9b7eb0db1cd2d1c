import { resourceOf } from "./discovery/resource-metadata.js";
import { configError } from "./errors.js";
import type { PrivateKeyInput } from "./grant/key-type.js";
import { secureUrl } from "./http.js";
import type { ClientAuthMethod, ClientCredentialsEvent, ClientCredentialsOptions, TokenStore } from "./types.js";
import { scopeList } from "./util.js";

/** Every default, in one place. */
export const DEFAULTS = {
  refreshSkewSeconds: 60,
  timeoutMs: 10_000,
  storeTimeoutMs: 2_000,
  retries: 2,
  discoveryTtlSeconds: 3600,
  assertionAudience: "issuer",
} as const;

/** The credential, kept apart so that no serialisation of the resolved options can reach it. */
export type Credential = { kind: "secret"; secret: string } | { kind: "key"; key: PrivateKeyInput; algorithm?: string; keyId?: string };

/** Options checked and fully defaulted once, up front: what every part of the middleware receives. */
export interface ResolvedOptions {
  readonly clientId: string;
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
  readonly discoveryTtlMs: number;
  readonly allowInsecureRequests: boolean;
  /** Delivers an event to `onEvent`; an observer that throws never breaks authentication. */
  readonly emit: (event: ClientCredentialsEvent) => void;
  /** Identifies this configuration (never its credential) in shared-store keys. */
  readonly fingerprint: readonly unknown[];
}

/** Checks every option, so a mistake surfaces before any request, and fills in every default. */
export function resolveOptions(options: ClientCredentialsOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw configError("options are required");
  const { clientId, clientSecret, privateKey } = options;
  if (typeof clientId !== "string" || clientId === "") throw configError("clientId is required");
  const secret = clientSecret !== undefined;
  const key = privateKey !== undefined;
  if (secret === key) throw configError("set exactly one of clientSecret and privateKey");
  if (secret && (typeof clientSecret !== "string" || clientSecret === "")) throw configError("clientSecret must be a non-empty string");
  if (options.authMethod === "private_key_jwt" && !key) throw configError("authMethod private_key_jwt needs privateKey");
  if (options.authMethod && options.authMethod !== "private_key_jwt" && !secret) throw configError(`authMethod ${options.authMethod} needs clientSecret`);
  if (options.resource === false && options.resourceUrl === undefined) {
    throw configError("resource: false needs resourceUrl, the URL prefix that may receive tokens (no resource indicator binds them to a server)");
  }
  const allowInsecureRequests = options.allowInsecureRequests ?? false;
  for (const name of ["resource", "resourceUrl", "issuer", "tokenEndpoint"] as const) {
    const value = options[name];
    if (typeof value === "string") secureUrl(value, "config", name, allowInsecureRequests);
    else if (value !== undefined && !(name === "resource" && value === false)) throw configError(`${name} must be a URL string`);
  }
  const number = (name: "refreshSkewSeconds" | "timeoutMs" | "storeTimeoutMs" | "retries" | "discoveryTtlSeconds") => {
    const value = options[name] ?? DEFAULTS[name];
    if (!(typeof value === "number" && Number.isFinite(value) && value >= 0)) throw configError(`${name} must be a non-negative number`);
    return value;
  };
  const store = options.store;
  if (store !== undefined && !isStore(store)) throw configError("store must have get, set and delete methods (and acquire with release, or neither)");

  const onEvent = options.onEvent;
  const scopes = scopeList(options.scope);
  const boundaryUrl = options.resourceUrl ?? (typeof options.resource === "string" ? options.resource : undefined);
  const credential: Credential = secret
    ? { kind: "secret", secret: clientSecret as string }
    : {
        kind: "key",
        key: privateKey as PrivateKeyInput,
        ...(options.algorithm ? { algorithm: options.algorithm } : {}),
        ...(options.keyId ? { keyId: options.keyId } : {}),
      };
  const resolved: Omit<ResolvedOptions, "credential"> = {
    clientId,
    authMethod: options.authMethod,
    assertionAudience: options.assertionAudience ?? DEFAULTS.assertionAudience,
    scopes,
    scopeConfigured: options.scope !== undefined,
    resource: options.resource,
    resourceUrl: options.resourceUrl,
    boundary: boundaryUrl === undefined ? undefined : resourceOf(new URL(boundaryUrl)),
    issuer: options.issuer,
    tokenEndpoint: options.tokenEndpoint,
    store,
    refreshSkewMs: number("refreshSkewSeconds") * 1000,
    timeoutMs: number("timeoutMs"),
    storeTimeoutMs: number("storeTimeoutMs"),
    retries: number("retries"),
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
    fingerprint: [clientId, options.resource ?? null, options.resourceUrl ?? null, options.issuer ?? null, options.tokenEndpoint ?? null, [...scopes].sort()],
  };
  // Not enumerable: logging or serialising the resolved options never shows the credential.
  return Object.defineProperty(resolved, "credential", { value: credential, enumerable: false }) as ResolvedOptions;
}

function isStore(store: TokenStore): boolean {
  const fn = (name: keyof TokenStore) => typeof store[name] === "function";
  return typeof store === "object" && store !== null && fn("get") && fn("set") && fn("delete") && fn("acquire") === fn("release");
}
