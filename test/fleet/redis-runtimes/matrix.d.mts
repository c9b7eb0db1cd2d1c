export type ClientName = "upstash" | "ioredis" | "node-redis";

export interface ClientInfo {
  label: string;
  /** The package in node_modules. */
  package: string;
  /** What redisStore must recognise it as. */
  kind: "upstash" | "ioredis" | "node-redis";
}

export declare const CLIENTS: Record<ClientName, ClientInfo>;

export interface PairConfig {
  client: ClientName;
  redisUrl?: string;
  upstash?: { url: string; token: string };
}

export interface RuntimeEntry {
  name: string;
  clients: ClientName[];
  /** What the child's meta line reports as its runtime. */
  runtime: RegExp;
  env: Record<string, string | undefined>;
  command(config: PairConfig): string[];
  /** Why it cannot run here; undefined when it can. */
  unavailable: string | undefined;
}

export declare function packageVersion(name: string): string;
export declare function runtimes(): RuntimeEntry[];
