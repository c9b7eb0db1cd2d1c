import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chooseAuthMethod, createClientAuth } from "../../src/grant/client-auth.js";
import { withClientCredentials } from "../../src/index.js";
import { resolveOptions } from "../../src/options.js";
import type { ClientAuthMethod } from "../../src/types.js";
import { useMockServer } from "../helpers.js";
import { endToEndSettings, propertyTimeout, sampleSettings, settings, stringFrom } from "./arbitraries.js";

const { mock: install } = useMockServer();
const context = { issuer: "https://auth.example.com", tokenEndpoint: "https://auth.example.com/token" };

/** Characters that broke Basic encoders elsewhere (raw `:` splits early, `+`/`%` decode wrongly, non-Latin-1 throws in btoa). */
const TRICKY = [
  ":",
  "%",
  "+",
  " ",
  "%20",
  "%3A",
  "%25",
  "+%2B",
  "=",
  "&",
  "/",
  "?",
  "#",
  "!'()*~",
  "ü",
  "é",
  "€",
  "🔑",
  "\u{1f468}\u200d\u{1f469}",
  "\u0000",
  "\n",
];
/** Any non-empty Unicode string without lone surrogates (they have no UTF-8 form to send). */
const credential = fc
  .oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 40 }), stringFrom(TRICKY, fc.string({ unit: "binary", maxLength: 6 })))
  .filter((s) => s !== "");

/** The way the middleware adds client authentication: options resolved once, then `apply` on each token request. */
async function applied(clientId: string, clientSecret: string, method: ClientAuthMethod) {
  const auth = createClientAuth(resolveOptions({ clientId, clientSecret, authMethod: method }), method, {}, new Map());
  const body = new URLSearchParams({ grant_type: "client_credentials" });
  const headers = new Headers();
  await auth.apply(body, headers, context);
  return { body, headers };
}

/** RFC 6749 §2.3.1, the receiving side: base64 → UTF-8 → split on the FIRST `:` → form-urlencoded decode of each part. */
function decodeBasic(header: string): { id: string; secret: string; raw: string } {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/.exec(header);
  if (!match) throw new Error("not a Basic header of base64");
  const raw = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0)));
  const colon = raw.indexOf(":");
  const formDecode = (part: string) => decodeURIComponent(part.replace(/\+/g, " "));
  return { id: formDecode(raw.slice(0, colon)), secret: formDecode(raw.slice(colon + 1)), raw };
}

describe("client authentication encodes any id and secret so the server reads back exactly those", () => {
  it(
    "client_secret_basic: Basic header decodes to the id and secret",
    async () => {
      await fc.assert(
        fc.asyncProperty(credential, credential, async (clientId, clientSecret) => {
          const { body, headers } = await applied(clientId, clientSecret, "client_secret_basic");
          const decoded = decodeBasic(headers.get("authorization")!);
          expect(decoded.raw).toMatch(/^[\x21-\x7e]+$/); // form-encoded: nothing a proxy or a Latin-1 decoder could mangle
          expect(decoded.raw.split(":")).toHaveLength(2);
          expect([decoded.id, decoded.secret]).toEqual([clientId, clientSecret]);
          expect([...body.keys()]).toEqual(["grant_type"]);
        }),
        settings,
      );
    },
    propertyTimeout,
  );

  it(
    "client_secret_post: the form body gives back the id and secret",
    async () => {
      await fc.assert(
        fc.asyncProperty(credential, credential, async (clientId, clientSecret) => {
          const { body, headers } = await applied(clientId, clientSecret, "client_secret_post");
          const received = new URLSearchParams(body.toString());
          expect([received.get("client_id"), received.get("client_secret"), received.get("grant_type")]).toEqual([
            clientId,
            clientSecret,
            "client_credentials",
          ]);
          expect(headers.has("authorization")).toBe(false);
        }),
        settings,
      );
    },
    propertyTimeout,
  );

  it(
    "a secret with no method configured or listed goes as client_secret_basic",
    () => {
      fc.assert(
        fc.property(credential, credential, (clientId, clientSecret) => {
          expect(chooseAuthMethod(resolveOptions({ clientId, clientSecret }), {})).toBe("client_secret_basic");
        }),
        settings,
      );
    },
    propertyTimeout,
  );

  it("every tricky piece occurs in the generated credentials", () => {
    const seen = new Set<string>();
    for (const value of fc.sample(credential, sampleSettings)) for (const piece of TRICKY) if (value.includes(piece)) seen.add(piece);
    expect(TRICKY.filter((piece) => !seen.has(piece))).toEqual([]);
  });
});

/** A client id, its secret and how it authenticates. */
const attempt = fc.tuple(credential, credential, fc.constantFrom<ClientAuthMethod>("client_secret_basic", "client_secret_post"));

describe("end to end through the MSW kit, which verifies Basic and form credentials for real", () => {
  it(
    "a token request with any id and secret succeeds",
    async () => {
      await fc.assert(
        fc.asyncProperty(attempt, async ([clientId, clientSecret, method]) => {
          const mock = install({ clients: [{ clientId, clientSecret }], authMethodsSupported: [method] });
          const authFetch = withClientCredentials({ clientId, clientSecret })(fetch);
          const response = await authFetch(mock.resource);
          expect(response.status).toBe(200);
          expect(mock.tokens.map((token) => token.authMethod)).toEqual([method]);
        }),
        endToEndSettings,
      );
    },
    propertyTimeout,
  );

  it(
    "the mock refuses a secret that differs in one character (the check above is real)",
    async () => {
      await fc.assert(
        fc.asyncProperty(attempt, async ([clientId, clientSecret, method]) => {
          const mock = install({ clients: [{ clientId, clientSecret: `${clientSecret}x` }], authMethodsSupported: [method] });
          const authFetch = withClientCredentials({ clientId, clientSecret })(fetch);
          await expect(authFetch(mock.resource)).rejects.toMatchObject({ code: "invalid_client" });
        }),
        { ...endToEndSettings, numRuns: Math.max(1, Math.ceil(endToEndSettings.numRuns / 4)) },
      );
    },
    propertyTimeout,
  );
});
