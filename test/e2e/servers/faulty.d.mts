export type Endpoint = "prm" | "as" | "token" | "mcp";

export interface ScriptedStatus {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Behaviour = "normal" | "reset" | "resetMidBody" | "truncatedJson" | "stallHeaders" | "stallBody" | "huge" | ScriptedStatus;

export interface FaultyRequest {
  endpoint: Endpoint | "other";
  path: string;
  method: string;
  /** An Authorization header came with it. */
  authorization: boolean;
  /** The Bearer token it carried, as "#n" (the n-th issued) or "unknown"; absent without one. */
  token?: string;
  /** Token endpoint: client_secret_basic credentials were right. */
  clientAuthenticated?: boolean;
  /** Token endpoint: the token it issued, as "#n". */
  issued?: string;
  behaviour: string;
  /** The status it was answered with, when it was answered. */
  status?: number;
  at: number;
}

export interface FaultyServerOptions {
  clientId: string;
  clientSecret: string;
  expiresIn?: number;
}

export interface FaultyServer {
  origin: string;
  url: string;
  resourceMetadataUrl: string;
  requests: FaultyRequest[];
  script(endpoint: Endpoint, ...behaviours: Behaviour[]): void;
  always(endpoint: Endpoint, behaviour: Behaviour | undefined): void;
  count(endpoint: Endpoint): number;
  tokenLifetime(seconds: number): void;
  waitFor(endpoint: Endpoint, n: number): Promise<void>;
  close(): Promise<void>;
}

export interface SinkRequest {
  path: string;
  method: string;
  authorization: boolean;
  at: number;
}

export interface Sink {
  origin: string;
  url: string;
  requests: SinkRequest[];
  close(): Promise<void>;
}

export declare function status(code: number, headers?: Record<string, string>, body?: string): ScriptedStatus;
export declare function redirect(location: string, code?: number): ScriptedStatus;
export declare function canary(kind: string): string;
export declare function start(options: FaultyServerOptions): Promise<FaultyServer>;
export declare function startSink(): Promise<Sink>;
