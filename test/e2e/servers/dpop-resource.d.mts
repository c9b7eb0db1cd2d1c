export declare const SCOPE: string;
export declare const DPOP_ALGS: string[];

export interface DpopResourceRequest {
  at: number;
  method: string;
  path: string;
  /** An Authorization header came with it. */
  authorized: boolean;
  /** Its scheme ("DPoP", "Bearer", …), as sent. */
  scheme?: string;
  /** A DPoP header came with it. */
  proof: boolean;
  rpc?: string;
  status?: number;
  /** "ok", or why it was refused ("no token", "nonce: missing", "proof: replayed jti", "bound token sent as Bearer", …). */
  outcome?: string;
}

export interface DpopResourceOptions {
  issuer: string;
  /** Demand a nonce this server issued in every proof. Default true. */
  nonce?: boolean;
  /** Also accept tokens that are not DPoP-bound as Bearer. Default false. */
  bearer?: boolean;
  requiredScopes?: string[];
  host?: string;
  port?: number;
}

export interface DpopResource {
  origin: string;
  url: string;
  resource: string;
  resourceMetadataUrl: string;
  issuer: string;
  scopes: string[];
  requests: DpopResourceRequest[];
  /** A new nonce; with `graceful`, the old one is still accepted and answers announce the new one. */
  rotateNonce(options?: { graceful?: boolean }): void;
  close(): Promise<void>;
}

export declare function start(options: DpopResourceOptions): Promise<DpopResource>;
