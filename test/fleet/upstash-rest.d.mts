export interface UpstashRestStats {
  /** HTTP requests received (all paths, authorized or not). */
  requests: number;
  /** Requests refused for a missing or wrong Bearer token. */
  unauthorized: number;
  /** Requests answered 502 because redis-server was unreachable. */
  failures: number;
  /** Requests per path: "/", "/pipeline", "/multi-exec". */
  paths: Record<string, number>;
  /** Commands per lower-cased name (arguments are never recorded). */
  commands: Record<string, number>;
}

export interface UpstashRest {
  /** `http://127.0.0.1:<port>`: pass as `url` to `new Redis({ url, token })`. */
  readonly url: string;
  readonly token: string;
  readonly stats: UpstashRestStats;
  close(): Promise<void>;
}

export declare function startUpstashRest(options: { redisPort: number; token?: string; port?: number; timeoutMs?: number }): Promise<UpstashRest>;
