import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { HttpResponse, http, type RequestHandler } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll } from "vitest";
import { ClientCredentialsError } from "../src/errors.js";
import { createMcpAuthMock, type McpAuthMock, type McpAuthMockOptions } from "../src/msw/index.js";
import { memoryStore } from "../src/stores/memory.js";
import type { ClientCredentialsEvent, StoredToken, TokenStore } from "../src/types.js";

export const CLIENT_ID = "ci-robot";
export const CLIENT_SECRET = "s3cr3t-Value:with%chars+ü";

/** One msw server per test file; anything unhandled answers 404 (never the real network). */
export function useMockServer() {
  const server = setupServer();
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
  return {
    server,
    /** Installs a fresh mock (plus any extra handlers, which win) and returns it. */
    mock(options: Partial<McpAuthMockOptions> = {}, ...extra: RequestHandler[]): McpAuthMock {
      const mock = createMcpAuthMock({ clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }], ...options });
      server.resetHandlers(
        ...extra,
        ...mock.handlers,
        http.all("*", () => new HttpResponse("not found", { status: 404 })),
      );
      return mock;
    },
  };
}

export function collectEvents() {
  const events: ClientCredentialsEvent[] = [];
  return { events, onEvent: (event: ClientCredentialsEvent) => void events.push(event) };
}

export async function rejection(promise: Promise<unknown>): Promise<ClientCredentialsError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientCredentialsError) return error;
    throw error;
  }
  throw new Error("expected the promise to reject");
}

export async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

/** A decoded store entry: what the middleware writes (see src/stores/guard.ts). */
export interface Entry<T = unknown> {
  v: number;
  kind: string;
  exp: number;
  data: T;
}

export function decodeEntry<T = unknown>(value: string | null | undefined): Entry<T> | undefined {
  return typeof value === "string" ? (JSON.parse(value) as Entry<T>) : undefined;
}

/** A store value in the middleware's format, for tests that plant entries. */
export function encodeEntry(kind: string, data: unknown, exp: number): string {
  return JSON.stringify({ v: 1, kind, exp, data });
}

/** A memory store that records every write, so tests can see keys, entries and TTLs. */
export function recordingStore() {
  const inner = memoryStore();
  const writes: Array<{ key: string; value: string; ttl: number; entry: Entry }> = [];
  const store: TokenStore = {
    get: (key) => inner.get(key),
    set: (key, value, ttl) => {
      writes.push({ key, value, ttl, entry: JSON.parse(value) as Entry });
      inner.set(key, value, ttl);
    },
    delete: (key) => inner.delete(key),
  };
  /** Writes of tokens only (discovery results are written too when there is a store). */
  const tokenWrites = () => writes.filter((w) => w.entry.kind === "token").map((w) => ({ key: w.key, ttl: w.ttl, token: w.entry.data as StoredToken }));
  return { store, inner, writes, tokenWrites };
}

/**
 * An ES256 key that signs JWTs the way a platform (or any outside signer) does, with `iat`, `exp`
 * and a fresh `jti`, and keeps every JWT it signed so tests can look for leaks.
 */
export async function jwtSigner() {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const minted: string[] = [];
  return {
    publicJwk: await exportJWK(publicKey),
    minted,
    /** `aud` may be a list; `expiresIn` is seconds from now (negative: expired). */
    async sign({ iss, sub, aud, expiresIn = 600 }: { iss: string; sub: string; aud: string | string[]; expiresIn?: number }): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      const jwt = await new SignJWT({})
        .setProtectedHeader({ alg: "ES256" })
        .setIssuer(iss)
        .setSubject(sub)
        .setAudience(aud)
        .setIssuedAt(now)
        .setExpirationTime(now + expiresIn)
        .setJti(crypto.randomUUID())
        .sign(privateKey);
      minted.push(jwt);
      return jwt;
    },
  };
}
