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
  close(): Promise<void>;
}

export declare function start(options?: AuthorizationServerOptions): Promise<AuthorizationServer>;
