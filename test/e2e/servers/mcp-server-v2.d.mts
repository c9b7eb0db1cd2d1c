export declare const SCOPE: string;

export interface McpV2Request {
  method: string;
  path: string;
  authorized: boolean;
  /** The MCP-Protocol-Version header, when the client sent one. */
  protocolVersion?: string;
  rpc?: string;
  status?: number;
}

export interface McpV2ServerOptions {
  issuer: string;
  metadataUrl?: string;
  requiredScopes?: string[];
  legacy?: "stateless" | "reject";
}

export interface ProtectedMcpV2Server {
  origin: string;
  url: string;
  resource: string;
  resourceMetadataUrl: string;
  issuer: string;
  scopes: string[];
  requests: McpV2Request[];
  /** Refuses (401 invalid_token) every token accepted so far; returns how many. */
  revokeSeenTokens(): number;
  close(): Promise<void>;
}

export declare function start(options: McpV2ServerOptions): Promise<ProtectedMcpV2Server>;
