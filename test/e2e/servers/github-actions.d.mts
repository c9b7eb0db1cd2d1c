import type { WorkloadIssuer } from "./workload-issuer.mjs";

export interface ActionsTokenRequest {
  method?: string;
  /** The `audience` query parameter, null when the request had none. */
  audience: string | null;
  authorized: boolean;
  apiVersion: string | null;
}

export interface GitHubActionsOidc {
  /** ACTIONS_ID_TOKEN_REQUEST_URL */
  url: string;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN */
  requestToken: string;
  issuer: WorkloadIssuer;
  /** `repo:<owner>/<repo>:ref:<ref>` */
  subject: string;
  /** `https://github.com/<owner>`, for requests without an audience. */
  defaultAudience: string;
  /** Seconds until a newly minted token's `exp`. */
  lifetime: number;
  requests: ActionsTokenRequest[];
  issued(): string[];
  close(): Promise<void>;
}

export declare function start(options?: { host?: string; port?: number; repository?: string; ref?: string; lifetime?: number }): Promise<GitHubActionsOidc>;
