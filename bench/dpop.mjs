// DPoP: what a proof costs per request once a token is cached, over a stub fetch (no network).
// Ours with `dpop: true` against ours with a Bearer token, side by side with oauth4webapi's
// protectedResourceRequest with and without its DPoP handle, and jose's SignJWT making the same
// proof alone as the floor. The MCP SDKs have no DPoP client. All rows sign with ES256.
// Run: npm run build && node bench/dpop.mjs   (re-runs itself with --expose-gc; mitata)
import { base64url, exportJWK, SignJWT } from "jose";
import { measure } from "mitata";
import { customFetch, DPoP, protectedResourceRequest } from "oauth4webapi";
import { ensureGc, fmt, importOurs, machine, median, table } from "./lib/common.mjs";

if (ensureGc(import.meta.url)) await main();

async function main() {
  const { withClientCredentials } = await importOurs();
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
  const MIN_CPU_NS = Number(process.env.BENCH_MIN_CPU_MS ?? 300) * 1e6;

  const ISSUER = "https://auth.example.com";
  const TOKEN_URL = `${ISSUER}/token`;
  const URL_ = "https://mcp.example.com/mcp";
  const payload = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
  const ok = new Response(null, { status: 200 });
  let tokenRequests = 0;
  const proofs = new Set();
  const stub = (tokenType) => async (input, init) => {
    const href = typeof input === "string" ? input : input.href;
    if (href === TOKEN_URL) {
      tokenRequests++;
      return Response.json({ access_token: `bench-${tokenType}`, token_type: tokenType, expires_in: 3600 });
    }
    const proof = new Headers(init?.headers).get("dpop");
    if (proof) proofs.add(proof);
    return ok;
  };
  const init = () => ({ method: "POST", headers: { "content-type": "application/json" }, body: payload });
  const common = { clientId: "bench", clientSecret: "secret", issuer: ISSUER, tokenEndpoint: TOKEN_URL, resource: URL_ };
  const bearer = withClientCredentials(common)(stub("Bearer"));
  const bound = withClientCredentials({ ...common, dpop: true })(stub("DPoP"));
  await bearer(URL_, init());
  await bound(URL_, init());

  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const jwk = await exportJWK(pair.publicKey);
  const ath = base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("bench-token"))));
  const joseProof = () =>
    new SignJWT({ htm: "POST", htu: URL_, ath, jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk })
      .setIssuedAt()
      .sign(pair.privateKey);
  const handle = DPoP({}, pair);
  const o4w = (dpop) => () =>
    protectedResourceRequest("bench-token", "POST", new URL(URL_), new Headers({ "content-type": "application/json" }), payload, {
      [customFetch]: stub("Bearer"),
      ...(dpop ? { DPoP: handle } : {}),
    });

  const rows = [
    ["ours, Bearer (reference)", () => bearer(URL_, init())],
    ["ours, dpop: true (a fresh proof with ath)", () => bound(URL_, init())],
    ["oauth4webapi protectedResourceRequest, Bearer", o4w(false)],
    ["oauth4webapi protectedResourceRequest, DPoP handle", o4w(true)],
    ["jose SignJWT: the same proof alone (floor)", joseProof],
  ];
  const before = tokenRequests;
  const results = new Map(rows.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of rows) {
      const stats = await measure(fn, { min_cpu_time: MIN_CPU_NS });
      results.get(name).push(stats.p50 / 1000);
    }
  }
  const sizeBefore = proofs.size;
  await bound(URL_, init());
  await bound(URL_, init());
  if (tokenRequests !== before) throw new Error("a token request happened while measuring");
  if (proofs.size !== sizeBefore + 2) throw new Error("a proof was reused");

  const med = (name) => median(results.get(name));
  console.log(`#### DPoP: cost per request with a cached token\n\n${machine()}\n`);
  console.log(`mitata, ${ROUNDS} interleaved rounds of ≥${MIN_CPU_NS / 1e6} ms per row; median of per-round medians; ES256, P-256 key generated once.\n`);
  console.log(
    table(
      ["µs per call", "median"],
      rows.map(([name]) => [name, fmt(med(name), 1)]),
    ),
  );
  const extra = med(rows[1][0]) - med(rows[0][0]);
  const theirs = med(rows[3][0]) - med(rows[2][0]);
  console.log(
    `\nWhat DPoP adds per request: ours ${fmt(extra, 1)} µs, oauth4webapi ${fmt(theirs, 1)} µs; jose's SignJWT alone ${fmt(med(rows[4][0]), 1)} µs. Every request got a proof of its own (checked: none reused, no token request while measuring).`,
  );
}
