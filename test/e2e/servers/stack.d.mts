import type { AuthorizationServer, JwtBearerOptions } from "./authorization-server.mjs";
import type { ProtectedMcpServer } from "./mcp-server.mjs";

export interface StackCredentials {
  privateKeyJwt: { clientId: string; privateKey: string; publicJwk: JsonWebKey; algorithm: string };
  clientSecret: { clientId: string; clientSecret: string };
  /** Only with `jwtBearer`: the public client registered for the JWT-bearer grant. */
  workloadIdentity?: { clientId: string };
}

export interface Stack {
  as: AuthorizationServer;
  mcp: ProtectedMcpServer;
  credentials: StackCredentials;
  close(): Promise<void>;
}

export declare const WORKLOAD_CLIENT_ID: "workload-agent";

export declare function workloadClient(clientId: string): Record<string, unknown>;

export declare function start(options?: {
  accessTokenTTL?: number;
  clients?: Array<Record<string, unknown>>;
  log?: (line: string) => void;
  jwtBearer?: JwtBearerOptions;
}): Promise<Stack>;
