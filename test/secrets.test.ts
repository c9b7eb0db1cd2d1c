import { inspect } from "node:util";
import { exportJWK, exportPKCS8, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { type ClientCredentialsEvent, withClientCredentials } from "../src/index.js";
import { faults } from "../src/msw/index.js";
import { CLIENT_ID, CLIENT_SECRET, collectEvents, rejection, useMockServer } from "./helpers.js";

const { mock: install } = useMockServer();

/** Every way a secret could surface: message, JSON, deep inspection with causes. */
function surfaces(value: unknown): string {
  return [String(value), JSON.stringify(value), inspect(value, { depth: 8, showHidden: true })].join("\n");
}

describe("secrets and tokens never leak", () => {
  it("events carry no secret and no token, across a full flow with retries and failures", async () => {
    const mock = install();
    mock.fault("token", faults.serverError(503));
    const { events, onEvent } = collectEvents();
    const authFetch = withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, onEvent })(fetch);
    await authFetch(mock.resource);
    mock.revoke();
    await authFetch(mock.resource);
    const text = surfaces(events);
    expect(events.length).toBeGreaterThan(10);
    expect(text).not.toContain(CLIENT_SECRET);
    for (const token of mock.tokens) expect(text).not.toContain(token.accessToken);
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set<ClientCredentialsEvent["type"]>([
        "challenge",
        "discovery",
        "discovered",
        "cache-miss",
        "token-request",
        "http-retry",
        "token-response",
        "retry",
        "cache-hit",
      ]),
    );
  });

  it("errors from every phase carry no secret, even through their causes", async () => {
    const mock = install({ clients: [{ clientId: CLIENT_ID, clientSecret: "another" }] });
    const errors = [await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource))];
    mock.fault("token", faults.delay(300));
    errors.push(await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, timeoutMs: 50, retries: 0 })(fetch)(mock.resource)));
    mock.fault("token", faults.networkError(), 3);
    errors.push(await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, retries: 0 })(fetch)(mock.resource)));
    expect(errors.map((e) => e.code)).toEqual(["invalid_client", "timeout", "network_error"]);
    for (const error of errors) {
      const text = surfaces(error);
      expect(text).not.toContain(CLIENT_SECRET);
      expect(text).not.toContain(encodeURIComponent(CLIENT_SECRET));
      expect(text).not.toContain(btoa(`${CLIENT_ID}:${encodeURIComponent(CLIENT_SECRET)}`).slice(0, 12));
    }
  });

  it("a bad private key never appears in the error", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const pem = await exportPKCS8(privateKey);
    const body = pem.split("\n")[1]!;
    const mangled = pem.replace(body, `${body.slice(0, 20)}!!!!${body.slice(24)}`);
    const mock = install({ clients: [{ clientId: "jwt", jwks: [await exportJWK(privateKey)] }] });
    const error = await rejection(withClientCredentials({ clientId: "jwt", privateKey: mangled })(fetch)(mock.resource));
    expect(error.phase).toBe("config");
    expect(surfaces(error)).not.toContain(body.slice(0, 20));
  });

  it("the returned fetch and its options holder expose nothing when serialised or inspected", () => {
    const authFetch = withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch);
    expect(surfaces(authFetch)).not.toContain(CLIENT_SECRET);
    expect(surfaces(Object.keys(authFetch))).not.toContain(CLIENT_SECRET);
  });

  it("a throwing onEvent does not break authentication", async () => {
    const mock = install();
    const authFetch = withClientCredentials({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      onEvent: () => {
        throw new Error("observer bug");
      },
    })(fetch);
    expect((await authFetch(mock.resource)).status).toBe(200);
  });
});
