// Canary credentials: distinctive secrets, keys and tokens that every error path runs with, and
// one check that none of them surfaces anywhere a user (or their log pipeline) could see.
import { inspect } from "node:util";
import { exportJWK, exportPKCS8, generateKeyPair } from "jose";
import { afterEach, beforeEach, expect, vi } from "vitest";
import type { ClientCredentialsEvent } from "../src/index.js";
import type { MockClient } from "../src/msw/index.js";

export interface Canaries {
  clientId: string;
  clientSecret: string;
  /** The private key as a JWK (its `d` is a canary) and as PEM (its body is one). */
  privateJwk: JsonWebKey;
  privatePem: string;
  /** The mock client that accepts both credentials. */
  client: MockClient;
  /** Access tokens handed out by hand-written token endpoints in tests. */
  token: string;
  /** A platform JWT (workload identity): shaped like one, signed by nobody. */
  platformJwt: string;
  /** Every string that must never surface, with the encodings a leak would take. */
  secrets(): string[];
  /** The client's options with one of its credentials. */
  credentials(
    kind: "secret" | "key" | "workload",
  ): { clientId: string; clientSecret: string } | { clientId: string; privateKey: JsonWebKey } | { clientId: string; assertion: string };
}

export async function canaries(): Promise<Canaries> {
  const id = crypto.randomUUID().slice(0, 8);
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), alg: "ES256" };
  const privatePem = await exportPKCS8(privateKey);
  const clientId = `canary-client-${id}`;
  const clientSecret = `canary-secret-${id}:ü+%`;
  const token = `canary-token-${id}`;
  const pemBody = privatePem.split("\n").filter((line) => line && !line.startsWith("-----"));
  const segment = (value: unknown) => btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const signature = `canary-platform-signature-${id}`;
  const platformJwt = `${segment({ alg: "ES256", typ: "JWT" })}.${segment({ iss: "https://platform.example", sub: `canary-workload-${id}`, aud: "https://auth.example.com" })}.${signature}`;
  return {
    clientId,
    clientSecret,
    privateJwk,
    privatePem,
    token,
    platformJwt,
    client: { clientId, clientSecret, jwks: [await exportJWK(publicKey)] },
    credentials: (kind) =>
      kind === "secret" ? { clientId, clientSecret } : kind === "key" ? { clientId, privateKey: privateJwk } : { clientId, assertion: platformJwt },
    secrets: () => [
      clientSecret,
      encodeURIComponent(clientSecret),
      btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`),
      privateJwk.d as string,
      ...pemBody,
      token,
      platformJwt,
      signature,
    ],
  };
}

/** Everything that can show a value: String(), its stack, JSON, deep inspection with causes. */
export function surfaces(value: unknown): string {
  const parts = [String(value), JSON.stringify(value) ?? "", inspect(value, { depth: 8, showHidden: true })];
  if (value instanceof Error) parts.push(value.stack ?? "", String(value.cause), inspect(value.cause, { depth: 8 }));
  return parts.join("\n");
}

/** Captures console output during each test, so a test can assert nothing leaked there either. */
export function captureConsole(): { output: () => string } {
  let lines: string[] = [];
  beforeEach(() => {
    lines = [];
    for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map((arg) => surfaces(arg)).join(" ")));
    }
  });
  afterEach(() => vi.restoreAllMocks());
  return { output: () => lines.join("\n") };
}

/** Counts unhandled rejections during each test. */
export function countUnhandled(): { count: () => number } {
  let count = 0;
  const listener = () => void count++;
  beforeEach(() => {
    count = 0;
    process.on("unhandledRejection", listener);
  });
  afterEach(() => void process.off("unhandledRejection", listener));
  return { count: () => count };
}

/** Asserts that no canary (nor any of `tokens`) appears in the error, the events, the console or the store keys. */
export function expectNoLeak(
  where: { error?: unknown; events: ClientCredentialsEvent[]; console: string; storeKeys: string[] },
  secrets: string[],
  tokens: string[],
): void {
  const text = [surfaces(where.error), surfaces(where.events), where.console, where.storeKeys.join("\n")].join("\n");
  for (const secret of [...secrets, ...tokens]) {
    if (secret.length >= 8) expect(text.includes(secret), `a canary surfaced: ${secret.slice(0, 4)}…`).toBe(false);
  }
}
