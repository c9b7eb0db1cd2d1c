export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Pid of the running redis-server (changes on restart). */
  readonly pid: number | undefined;
  /** SIGTERM and wait for the exit. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL, no goodbye to clients; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty (stops it first if needed). */
  restart(): Promise<void>;
}

export declare function findRedisServer(): string | null;
export declare function redisAvailable(): boolean;
export declare function freePort(): Promise<number>;
export declare function ping(port: number, timeoutMs?: number): Promise<boolean>;
export declare function startRedis(options?: { port?: number; timeoutMs?: number }): Promise<RedisServer>;
