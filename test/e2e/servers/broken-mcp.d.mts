export declare const MCP_PATH: "/mcp";
export declare const PRM_PATH: "/.well-known/oauth-protected-resource/mcp";
export declare const PRM_ROOT_PATH: "/.well-known/oauth-protected-resource";
export declare const AS_PATH: "/.well-known/oauth-authorization-server";
export declare const OIDC_PATH: "/.well-known/openid-configuration";

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Sent chunked, without content-length. */
  stream?: boolean;
}

export type Routes = Record<string, Answer>;

export interface BrokenRequest {
  method: string;
  path: string;
  authorization: boolean;
}

export interface BrokenServer {
  origin: string;
  /** `origin` + /mcp */
  url: string;
  requests: BrokenRequest[];
  count(path: string): number;
  close(): Promise<void>;
}

export declare function answer(status: number, headers?: Record<string, string>, body?: string): Answer;
export declare function json(body: unknown, status?: number, headers?: Record<string, string>): Answer;
export declare function redirect(location: string, status?: number): Answer;
export declare function challenge(origin: string, extra?: string): Answer;
export declare function resourceMetadata(origin: string, changes?: Record<string, unknown>): Answer;
export declare function serverMetadata(origin: string, changes?: Record<string, unknown>): Answer;
export declare function standard(origin: string, changes?: Record<string, Answer | undefined>): Routes;
export declare function start(routes?: (origin: string) => Routes): Promise<BrokenServer>;
export declare function closedUrl(): Promise<string>;
