// Compile-time only (tsc -p tsconfig.test.json; never run): the structural binding types of
// stores/cloudflare accept what @cloudflare/workers-types declares. The package is not a
// dependency here, so its shapes are transcribed below (4.x, overloads and extra options kept
// where they matter for assignability); wrangler's generated `worker-configuration.d.ts` has
// the same ones.
import {
  type DurableObjectNamespaceLike,
  type DurableObjectStateLike,
  durableObjectStore,
  type KVNamespaceLike,
  kvStore,
  TokenStoreDurableObject,
} from "../../../src/stores/cloudflare.js";

interface KVNamespaceGetOptions<Type> {
  type: Type;
  cacheTtl?: number;
}
interface KVNamespace<Key extends string = string> {
  get(key: Key, options?: Partial<KVNamespaceGetOptions<undefined>>): Promise<string | null>;
  get(key: Key, type: "text"): Promise<string | null>;
  get<ExpectedValue = unknown>(key: Key, type: "json"): Promise<ExpectedValue | null>;
  get(key: Key, type: "arrayBuffer"): Promise<ArrayBuffer | null>;
  get(key: Key, type: "stream"): Promise<ReadableStream | null>;
  put(
    key: Key,
    value: string | ArrayBuffer | ArrayBufferView | ReadableStream,
    options?: { expiration?: number; expirationTtl?: number; metadata?: unknown | null },
  ): Promise<void>;
  delete(key: Key): Promise<void>;
}

interface DurableObjectId {
  toString(): string;
  equals(other: DurableObjectId): boolean;
  readonly name?: string;
}
type DurableObjectStub = {
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  connect(address: string, options?: object): unknown;
} & { readonly id: DurableObjectId; readonly name?: string };
declare abstract class DurableObjectNamespace {
  newUniqueId(options?: { jurisdiction?: string }): DurableObjectId;
  idFromName(name: string): DurableObjectId;
  idFromString(id: string): DurableObjectId;
  get(id: DurableObjectId, options?: { locationHint?: string }): DurableObjectStub;
  getByName(name: string, options?: { locationHint?: string }): DurableObjectStub;
  jurisdiction(jurisdiction: "eu" | "fedramp"): DurableObjectNamespace;
}

interface DurableObjectStorage {
  get<T = unknown>(key: string, options?: { allowConcurrency?: boolean; noCache?: boolean }): Promise<T | undefined>;
  get<T = unknown>(keys: string[], options?: { allowConcurrency?: boolean; noCache?: boolean }): Promise<Map<string, T>>;
  list<T = unknown>(options?: { start?: string; end?: string; prefix?: string; reverse?: boolean; limit?: number }): Promise<Map<string, T>>;
  put<T>(key: string, value: T, options?: { allowUnconfirmed?: boolean; noCache?: boolean }): Promise<void>;
  put<T>(entries: Record<string, T>, options?: { allowUnconfirmed?: boolean; noCache?: boolean }): Promise<void>;
  delete(key: string, options?: { allowUnconfirmed?: boolean }): Promise<boolean>;
  delete(keys: string[], options?: { allowUnconfirmed?: boolean }): Promise<number>;
  deleteAll(): Promise<void>;
  getAlarm(options?: { allowConcurrency?: boolean }): Promise<number | null>;
  setAlarm(scheduledTime: number | Date, options?: { allowUnconfirmed?: boolean }): Promise<void>;
  deleteAlarm(): Promise<void>;
  sync(): Promise<void>;
}
interface DurableObjectState {
  waitUntil(promise: Promise<unknown>): void;
  readonly id: DurableObjectId;
  readonly storage: DurableObjectStorage;
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
  acceptWebSocket(ws: WebSocket, tags?: string[]): void;
}

declare const env: { KV: KVNamespace; TOKENS: DurableObjectNamespace; EU: DurableObjectNamespace };
declare const state: DurableObjectState;

export const kv: KVNamespaceLike = env.KV;
export const ns: DurableObjectNamespaceLike = env.TOKENS;
export const st: DurableObjectStateLike = state;
export const stores = [kvStore(env.KV, { prefix: "app:" }), durableObjectStore(env.TOKENS), durableObjectStore(env.TOKENS.jurisdiction("eu"), { name: "eu" })];
export const broker = new TokenStoreDurableObject(state, {});
