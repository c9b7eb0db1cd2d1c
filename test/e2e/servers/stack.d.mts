import type { AuthorizationServer } from "./authorization-server.mjs";
import type { ProtectedMcpServer } from "./mcp-server.mjs";

export interface StackCredentials {
  privateKeyJwt: { clientId: string; privateKey: string; publicJwk: JsonWebKey; algorithm: string };
  clientSecret: { clientId: string; clientSecret: string };
}

export interface Stack {
  as: AuthorizationServer;
  mcp: ProtectedMcpServer;
  credentials: StackCredentials;
  close(): Promise<void>;
}

export declare function start(options?: { accessTokenTTL?: number; clients?: Array<Record<string, unknown>>; log?: (line: string) => void }): Promise<Stack>;
