import type { Binding } from "./binding.js";
import { discoverAuthorizationServer, validateAuthorizationServerMetadata } from "./discovery/authorization-server.js";
import { configError, withoutQuery } from "./errors.js";
import { type ClientAuthenticator, chooseAuthMethod, createClientAuth, type KeyCache, type ServerAuthSupport } from "./grant/client-auth.js";
import type { Http } from "./http.js";
import type { ResolvedOptions } from "./options.js";
import type { AuthorizationServerMetadata } from "./schemas.js";
import type { StoreGuard } from "./stores/guard.js";
import { defined } from "./util.js";

/** Where a binding's tokens come from: the token endpoint and how to authenticate there. */
export interface Server {
  tokenEndpoint: URL;
  issuer?: string;
  auth: ClientAuthenticator;
  /** The metadata's grant_types_supported when it does not list our grant: quoted if the server refuses. */
  grantTypes?: readonly string[];
  /** RFC 9449 §5.1: the DPoP algorithms the server accepts, when its metadata lists them. */
  dpopAlgs?: readonly string[];
}

type Metadata = AuthorizationServerMetadata & { token_endpoint: string };

/** Authorization servers kept per instance, oldest dropped first. */
const MAX_SERVERS = 1024;

/**
 * Authorization servers by issuer (or the configured token endpoint), from static options or
 * RFC 8414 / OIDC metadata, shared through the store when there is one. Past the discovery TTL
 * metadata is refreshed in the background: an authorization server that is briefly down must not
 * break requests that hold a valid token.
 */
export class ServerDirectory {
  readonly #entries = new Map<string, { promise: Promise<Server>; until: number }>();
  readonly #keys: KeyCache = new Map();

  constructor(
    private readonly options: ResolvedOptions,
    private readonly http: Http,
    private readonly guard: StoreGuard,
  ) {}

  get(binding: Binding): Promise<Server> {
    const id = binding.issuer ?? this.options.tokenEndpoint ?? "";
    const ttlMs = this.options.discoveryTtlMs;
    const entry = this.#entries.get(id);
    if (entry) {
      if (entry.until <= Date.now()) {
        entry.until = Date.now() + ttlMs;
        const refreshed = this.#resolve(binding.issuer);
        refreshed.then(
          () => this.#entries.set(id, { promise: refreshed, until: entry.until }),
          () => {}, // keep the metadata we have; the next TTL tries again
        );
      }
      return entry.promise;
    }
    const promise = this.#resolve(binding.issuer);
    if (this.#entries.size >= MAX_SERVERS) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(id, { promise, until: Date.now() + ttlMs });
    promise.catch(() => this.#entries.delete(id));
    return promise;
  }

  /** Forgets every server (the shared store's copies go with StoreGuard.forget()). */
  clear(): void {
    this.#entries.clear();
  }

  async #resolve(issuer: string | undefined): Promise<Server> {
    const { options } = this;
    if (options.tokenEndpoint) {
      const tokenEndpoint = this.http.secureUrl(options.tokenEndpoint, "config", "tokenEndpoint");
      return this.#ready(tokenEndpoint, options.issuer, {});
    }
    if (!issuer) throw configError("no authorization server: set issuer or tokenEndpoint, or let discovery find one");
    const metadata = await this.#metadata(issuer);
    const server = this.#ready(
      new URL(metadata.token_endpoint),
      metadata.issuer,
      defined({ methods: metadata.token_endpoint_auth_methods_supported, signingAlgs: metadata.token_endpoint_auth_signing_alg_values_supported }),
    );
    // Advisory (RFC 8414): a server that does not list the grant still gets one attempt.
    const grantTypes = metadata.grant_types_supported;
    const dpopAlgs = metadata.dpop_signing_alg_values_supported;
    return defined({ ...server, grantTypes: grantTypes && !grantTypes.includes(server.auth.grant) ? grantTypes : undefined, dpopAlgs });
  }

  /** The metadata, from the shared store (checked again, as if just fetched) or from the server. */
  #metadata(issuer: string): Promise<Metadata> {
    const { http, options } = this;
    return this.guard.through(
      "authorization-server-metadata",
      [issuer],
      options.discoveryTtlMs,
      (data) => validateAuthorizationServerMetadata(data, new URL(issuer), issuer, http),
      () => discoverAuthorizationServer(http, issuer, options.emit),
      // Only what this client uses: a server's whole document may be large.
      (metadata) => ({
        issuer: metadata.issuer,
        token_endpoint: metadata.token_endpoint,
        token_endpoint_auth_methods_supported: metadata.token_endpoint_auth_methods_supported,
        token_endpoint_auth_signing_alg_values_supported: metadata.token_endpoint_auth_signing_alg_values_supported,
        dpop_signing_alg_values_supported: metadata.dpop_signing_alg_values_supported,
        grant_types_supported: metadata.grant_types_supported,
      }),
    );
  }

  #ready(tokenEndpoint: URL, issuer: string | undefined, support: ServerAuthSupport): Server {
    const method = chooseAuthMethod(this.options, support);
    const auth = createClientAuth(this.options, method, support, this.#keys);
    this.options.emit({ type: "discovered", issuer: issuer ?? tokenEndpoint.origin, tokenEndpoint: withoutQuery(tokenEndpoint.href), authMethod: method });
    return defined({ tokenEndpoint, auth, issuer: issuer || undefined });
  }
}
