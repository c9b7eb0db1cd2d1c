export interface ResourceRequest {
  at: number;
  path: string;
  token: boolean;
  jti?: string;
  exp?: number;
  status: number;
  reason?: string;
}

export interface ResourceServerOptions {
  issuer: string;
  jwksUri?: string;
  paths?: string[];
  scopesSupported?: string[];
  host?: string;
  port?: number;
}

export interface ResourceServer {
  origin: string;
  url: string;
  urlFor(path: string): string;
  resourceMetadataUrl: string;
  requests: ResourceRequest[];
  close(): Promise<void>;
}

export declare function start(options: ResourceServerOptions): Promise<ResourceServer>;
