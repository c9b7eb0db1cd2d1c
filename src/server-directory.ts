import type { Binding } from "./binding.js";
import { discoverAuthorizationServer } from "./discovery/authorization-server.js";
import { ClientCredentialsError } from "./errors.js";
import { type ClientAuthenticator, chooseAuthMethod, createClientAuth, type KeyCache } from "./grant/client-auth.js";
import type { Http } from "./http.js";
import type { ClientCredentialsEvent, ClientCredentialsOptions } from "./types.js";

/** Where a binding's tokens come from: the token endpoint and how to authenticate there. */
export interface Server {
  tokenEndpoint: URL;
  issuer?: string;
  auth: ClientAuthenticator;
}

/**
 * Authorization servers by issuer (or the configured token endpoint), from static options or
 * RFC 8414 / OIDC metadata. Past the discovery TTL metadata is refreshed in the background: an
 * authorization server that is briefly down must not break requests that hold a valid token.
 */
export class ServerDirectory {
  readonly #entries = new Map<string, { promise: Promise<Server>; until: number }>();
  readonly #keys: KeyCache = new Map();

  constructor(
    private readonly options: ClientCredentialsOptions,
    private readonly http: Http,
    private readonly ttlMs: number,
    private readonly emit: (event: ClientCredentialsEvent) => void,
  ) {}

  get(binding: Binding): Promise<Server> {
    const id = binding.issuer ?? this.options.tokenEndpoint ?? "";
    const entry = this.#entries.get(id);
    if (entry) {
      if (entry.until <= Date.now()) {
        entry.until = Date.now() + this.ttlMs;
        const refreshed = this.#resolve(binding.issuer);
        refreshed.then(
          () => this.#entries.set(id, { promise: refreshed, until: entry.until }),
          () => {}, // keep the metadata we have; the next TTL tries again
        );
      }
      return entry.promise;
    }
    const promise = this.#resolve(binding.issuer);
    this.#entries.set(id, { promise, until: Date.now() + this.ttlMs });
    promise.catch(() => this.#entries.delete(id));
    return promise;
  }

  clear(): void {
    this.#entries.clear();
  }

  async #resolve(issuer: string | undefined): Promise<Server> {
    const { options } = this;
    if (options.tokenEndpoint) {
      const tokenEndpoint = this.http.secureUrl(options.tokenEndpoint, "config", "tokenEndpoint");
      return this.#ready(tokenEndpoint, options.issuer, {});
    }
    if (!issuer)
      throw new ClientCredentialsError("config", "no authorization server: set issuer or tokenEndpoint, or let discovery find one", { code: "invalid_config" });
    const metadata = await discoverAuthorizationServer(this.http, issuer, this.emit);
    return this.#ready(new URL(metadata.token_endpoint), metadata.issuer, {
      ...(metadata.token_endpoint_auth_methods_supported ? { methods: metadata.token_endpoint_auth_methods_supported } : {}),
      ...(metadata.token_endpoint_auth_signing_alg_values_supported ? { signingAlgs: metadata.token_endpoint_auth_signing_alg_values_supported } : {}),
    });
  }

  #ready(tokenEndpoint: URL, issuer: string | undefined, support: { methods?: readonly string[]; signingAlgs?: readonly string[] }): Server {
    const method = chooseAuthMethod(this.options, support);
    const auth = createClientAuth(this.options, method, support, this.#keys);
    this.emit({ type: "discovered", issuer: issuer ?? tokenEndpoint.origin, tokenEndpoint: tokenEndpoint.href, authMethod: method });
    return { tokenEndpoint, auth, ...(issuer ? { issuer } : {}) };
  }
}
