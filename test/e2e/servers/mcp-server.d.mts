export declare const SCOPE: string;

export interface McpRequest {
  at: number;
  method: string;
  path: string;
  authorized: boolean;
  rpc?: string;
  status?: number;
  ms?: number;
}

export interface McpServerOptions {
  issuer: string;
  metadataUrl?: string;
  jwksUri?: string;
  requiredScopes?: string[];
  host?: string;
  port?: number;
  /** Opt-in: the `notify` tool ({ text }), which sends a log message and progress (when asked) on its request's stream, and a log message on the session's standalone GET stream. */
  notifications?: boolean;
}

export interface ProtectedMcpServer {
  origin: string;
  url: string;
  resource: string;
  resourceMetadataUrl: string;
  issuer: string;
  scopes: string[];
  requests: McpRequest[];
  close(): Promise<void>;
}

export declare function start(options: McpServerOptions): Promise<ProtectedMcpServer>;
