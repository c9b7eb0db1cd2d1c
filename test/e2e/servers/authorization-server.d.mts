export declare const CLIENT_AUTH_SIGNING_ALGS: string[];

export interface ResourceInfo {
  scope?: string;
  accessTokenTTL?: number;
  audience?: string;
}

export interface AuthorizationServerEvent {
  type: "grant.success" | "grant.error" | "server_error";
  at: number;
  clientId?: string;
  error?: string;
  description?: string;
  detail?: string;
  /** Only on a server started with `jwtBearer`: the grant_type of the request. */
  grantType?: string;
  /** Only for JWT-bearer requests: what the grant read from the assertion (never the assertion). */
  assertion?: { iss?: string; sub?: string; jti?: string; aud?: string | string[]; verified?: true };
}

export interface TrustedIssuer {
  issuer: string;
  /** When given, only assertions with this `sub` are accepted. */
  subject?: string;
}

export interface JwtBearerOptions {
  trust?: TrustedIssuer[];
}

export interface AuthorizationServerOptions {
  host?: string;
  port?: number;
  path?: string;
  clients?: Array<Record<string, unknown>>;
  resources?: Record<string, ResourceInfo>;
  defaultResource?: string;
  accessTokenTTL?: number;
  quiet?: boolean;
  log?: (line: string) => void;
  /** Opt-in: the RFC 7523 §2.1 JWT-bearer grant, trusting these workload issuers. */
  jwtBearer?: JwtBearerOptions;
  /**
   * DPoP at the token endpoint. Left out: oidc-provider 9's default (`features.dPoP` on, no nonce);
   * `false`: off; `true` or an object: on, `nonce` requiring a server nonce in every proof,
   * `algorithms` the proof algorithms accepted and listed in `dpop_signing_alg_values_supported`.
   */
  dpop?: boolean | DpopFeatureOptions;
}

export interface DpopFeatureOptions {
  nonce?: boolean;
  algorithms?: string[];
}

export interface AuthorizationServer {
  origin: string;
  url: string;
  issuer: string;
  discoveryUrl: string;
  tokenEndpoint: string;
  jwksUri: string;
  publicJwk: Record<string, string>;
  provider: unknown;
  events: AuthorizationServerEvent[];
  addResource(resource: string, info?: ResourceInfo): void;
  /** Only on a server started with `jwtBearer`. */
  addTrust?(entry: TrustedIssuer): void;
  close(): Promise<void>;
}

export declare function start(options?: AuthorizationServerOptions): Promise<AuthorizationServer>;
