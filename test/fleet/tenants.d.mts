export interface LoopbackServer {
  baseUrl: string;
  echoUrl: string;
  close(): Promise<void>;
}

export interface Tenant {
  id: string;
  issuer: string;
  resource: string;
  tokenEndpoint: string;
  resourceMetadataUrl: string;
}

export interface TenantCounts {
  token: number;
  resourceMetadata: number;
  authorizationServerMetadata: number;
  resource: number;
  resourceAuthorized: number;
  /** Resource requests sent without an Authorization header (each answered 401). */
  unauthorized: number;
}

export declare function startServer(options?: { host?: string; port?: number; echoPort?: number; log?: (line: string) => void }): Promise<LoopbackServer>;
export declare function createTenant(
  baseUrl: string,
  spec?: { clients?: Array<{ clientId: string; clientSecret?: string }>; options?: Record<string, unknown> },
): Promise<Tenant>;
export declare function tenantCounts(baseUrl: string, id: string): Promise<TenantCounts>;
export declare function delta(before: TenantCounts, after: TenantCounts): TenantCounts;
export declare function warmCost(counts: TenantCounts): Pick<TenantCounts, "token" | "resourceMetadata" | "authorizationServerMetadata" | "unauthorized">;
export declare const NOTHING: Readonly<Pick<TenantCounts, "token" | "resourceMetadata" | "authorizationServerMetadata" | "unauthorized">>;
