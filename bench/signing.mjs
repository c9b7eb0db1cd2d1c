// private_key_jwt: what a client assertion costs per algorithm, alone and inside a token request
// against a stub token endpoint (no network). Ours side by side with the MCP SDK 1.x
// PrivateKeyJwtProvider, oauth4webapi's PrivateKeyJwt, and jose's SignJWT alone as the floor.
// Run: npm run build && node bench/signing.mjs   (re-runs itself with --expose-gc; mitata)

import { fetchToken } from "@modelcontextprotocol/sdk/client/auth.js";
import { PrivateKeyJwtProvider, ClientCredentialsProvider as SecretProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { importPKCS8, SignJWT } from "jose";
import { measure } from "mitata";
import * as oauth from "oauth4webapi";
import { ensureGc, fmt, importOurs, machine, median, table } from "./lib/common.mjs";

if (ensureGc(import.meta.url)) await main();

async function main() {
  const { withClientCredentials } = await importOurs();
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const MIN_CPU_NS = Number(process.env.BENCH_MIN_CPU_MS ?? 300) * 1e6;

  const ISSUER = "https://auth.example.com";
  const TOKEN_URL = `${ISSUER}/token`;
  const RESOURCE = "https://mcp.example.com/mcp";
  const metadata = { issuer: ISSUER, token_endpoint: TOKEN_URL, grant_types_supported: ["client_credentials"], response_types_supported: [] };
  const as = { issuer: ISSUER, token_endpoint: TOKEN_URL };
  const client = { client_id: "bench" };

  const stub = async () => {
    return Response.json({ access_token: "bench-token", token_type: "Bearer", expires_in: 3600 });
  };

  const algorithms = {
    RS256: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    PS256: { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    ES256: { name: "ECDSA", namedCurve: "P-256" },
    ES384: { name: "ECDSA", namedCurve: "P-384" },
    EdDSA: { name: "Ed25519" },
  };

  const pem = (der) => `-----BEGIN PRIVATE KEY-----\n${Buffer.from(der).toString("base64")}\n-----END PRIVATE KEY-----\n`;
  const rowNames = [
    "jose SignJWT alone (floor, key imported once)",
    "ours: token request (clearTokens + getToken)",
    "SDK 1.x PrivateKeyJwtProvider.addClientAuthentication",
    "SDK 1.x fetchToken (token request)",
    "oauth4webapi PrivateKeyJwt (client auth alone)",
    "oauth4webapi clientCredentialsGrantRequest + process…Response",
  ];
  const results = {}; // alg -> µs per row
  const notes = new Set();

  for (const [alg, params] of Object.entries(algorithms)) {
    const pair = await crypto.subtle.generateKey(params, true, ["sign", "verify"]);
    const pkcs8 = pem(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
    const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);

    const joseKey = await importPKCS8(pkcs8, alg);
    const floor = () =>
      new SignJWT({})
        .setProtectedHeader({ alg })
        .setIssuer("bench")
        .setSubject("bench")
        .setAudience(ISSUER)
        .setIssuedAt()
        .setExpirationTime("60s")
        .setJti(crypto.randomUUID())
        .sign(joseKey);

    const ours = withClientCredentials({ clientId: "bench", privateKey: pkcs8, algorithm: alg, issuer: ISSUER, tokenEndpoint: TOKEN_URL, resource: RESOURCE })(
      stub,
    );
    await ours.getToken(); // imports the key once
    const oursToken = async () => {
      await ours.clearTokens();
      return ours.getToken();
    };

    // The SDK imports PEM only for RS*/ES*/PS* ("Unsupported algorithm EdDSA"): a JWK for EdDSA.
    if (alg === "EdDSA")
      notes.add("SDK 1.x `createPrivateKeyJwtAuth` refuses a PEM key for EdDSA (`Unsupported algorithm EdDSA`), so its EdDSA rows use a private JWK.");
    const provider = new PrivateKeyJwtProvider({ clientId: "bench", privateKey: alg === "EdDSA" ? jwk : pkcs8, algorithm: alg, expectedIssuer: ISSUER });
    const sdkSign = () =>
      provider.addClientAuthentication(new Headers(), new URLSearchParams({ grant_type: "client_credentials" }), new URL(TOKEN_URL), metadata);
    const sdkToken = () => fetchToken(provider, ISSUER, { metadata, resource: new URL(RESOURCE), fetchFn: stub });

    const o4wKey = await crypto.subtle.importKey("pkcs8", await crypto.subtle.exportKey("pkcs8", pair.privateKey), params, false, ["sign"]);
    const o4wAuth = oauth.PrivateKeyJwt(o4wKey);
    const o4wSign = () => o4wAuth(as, client, new URLSearchParams({ grant_type: "client_credentials" }), new Headers());
    const o4wToken = async () => {
      const response = await oauth.clientCredentialsGrantRequest(as, client, o4wAuth, { resource: RESOURCE }, { [oauth.customFetch]: stub });
      return oauth.processClientCredentialsResponse(as, client, response);
    };

    const fns = [floor, oursToken, sdkSign, sdkToken, o4wSign, o4wToken];
    for (const fn of fns) await fn(); // warm up, and fail early
    const per = fns.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < fns.length; k++) {
        const index = (k + round) % fns.length;
        per[index].push((await measure(fns[index], { min_cpu_time: MIN_CPU_NS })).p50);
      }
    }
    results[alg] = per.map((samples) => median(samples) / 1000);
  }

  // The same token requests with a client secret: the part of each token request that is not signing.
  const oursSecret = withClientCredentials({ clientId: "bench", clientSecret: "secret", issuer: ISSUER, tokenEndpoint: TOKEN_URL, resource: RESOURCE })(stub);
  await oursSecret.getToken();
  const secretProvider = new SecretProvider({ clientId: "bench", clientSecret: "secret", expectedIssuer: ISSUER });
  const secretAuth = oauth.ClientSecretPost("secret");
  const secretFns = [
    async () => {
      await oursSecret.clearTokens();
      return oursSecret.getToken();
    },
    () => fetchToken(secretProvider, ISSUER, { metadata, resource: new URL(RESOURCE), fetchFn: stub }),
    async () =>
      oauth.processClientCredentialsResponse(
        as,
        client,
        await oauth.clientCredentialsGrantRequest(as, client, secretAuth, { resource: RESOURCE }, { [oauth.customFetch]: stub }),
      ),
  ];
  const secretPer = secretFns.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < secretFns.length; k++) {
      const index = (k + round) % secretFns.length;
      secretPer[index].push((await measure(secretFns[index], { min_cpu_time: MIN_CPU_NS })).p50);
    }
  }
  const secret = secretPer.map((samples) => median(samples) / 1000);

  const algs = Object.keys(algorithms);
  const out = ["### private_key_jwt signing cost", "", machine(), ""];
  out.push(
    `mitata, ${ROUNDS} interleaved rounds of ≥${MIN_CPU_NS / 1e6} ms per row; median of per-round medians; fresh 2048-bit RSA / P-256 / P-384 / Ed25519 keys.`,
    "",
  );
  out.push(
    table(
      ["µs per call", ...algs],
      rowNames.map((name, i) => [name, ...algs.map((alg) => fmt(results[alg][i], 1))]),
    ),
    "",
  );
  out.push(
    table(
      ["× ours (same kind of call)", ...algs],
      [
        ["jose SignJWT alone ÷ ours' private_key_jwt extra", ...algs.map((alg) => `${fmt(results[alg][0] / (results[alg][1] - secret[0]))}×`)],
        ["SDK 1.x addClientAuthentication ÷ ours' private_key_jwt extra", ...algs.map((alg) => `${fmt(results[alg][2] / (results[alg][1] - secret[0]))}×`)],
        ["SDK 1.x fetchToken ÷ ours token request", ...algs.map((alg) => `${fmt(results[alg][3] / results[alg][1])}×`)],
        ["oauth4webapi PrivateKeyJwt ÷ ours' private_key_jwt extra", ...algs.map((alg) => `${fmt(results[alg][4] / (results[alg][1] - secret[0]))}×`)],
        ["oauth4webapi token request ÷ ours token request", ...algs.map((alg) => `${fmt(results[alg][5] / results[alg][1])}×`)],
      ],
    ),
    "",
  );
  out.push(
    `The same token request with a client secret (no signing): ours ${fmt(secret[0], 1)} µs, SDK 1.x fetchToken ${fmt(secret[1], 1)} µs, oauth4webapi ${fmt(secret[2], 1)} µs. "Ours' private_key_jwt extra" = ours' private_key_jwt token request − ours' client-secret token request.`,
    "SDK 1.x imports the key again for every assertion (`importPKCS8`/`importJWK` inside `addClientAuthentication`); ours and oauth4webapi import it once.",
    ...notes,
    "",
  );
  console.log(out.join("\n"));
}
