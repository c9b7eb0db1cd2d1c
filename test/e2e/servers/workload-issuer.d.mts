export interface MintOptions {
  sub?: string;
  aud: string | string[];
  iss?: string;
  /** Seconds until `exp`; negative for an expired token. */
  expiresIn?: number;
  claims?: Record<string, unknown>;
  key?: { kid: string; privateKey: CryptoKey };
}

export interface WorkloadIssuer {
  issuer: string;
  jwksUri: string;
  requests: string[];
  mint(options: MintOptions): Promise<string>;
  foreignKey(): Promise<{ kid: string; privateKey: CryptoKey }>;
  rotate(): Promise<void>;
  close(): Promise<void>;
}

export declare function start(options?: { host?: string; port?: number; alg?: string }): Promise<WorkloadIssuer>;
