// `redirect: "error"` through authFetch inside workerd: workers/redirect.js against the loopback
// MCP SDK server (protected) and a loopback server that always answers 302.
import { Miniflare } from "miniflare";
import { assert, assertEqual, bundleWorker, grants, redirectServer, workerOptions } from "./harness.mjs";

export async function redirectTests(ctx) {
  const { stack } = ctx;
  const scriptPath = await bundleWorker("test/cloudflare-agents/workers/redirect.js", "redirect.mjs");
  const moved = await redirectServer(stack.mcp.url);
  const { clientId, clientSecret } = stack.credentials.clientSecret;
  const mf = new Miniflare(
    workerOptions(scriptPath, {
      bindings: { MCP_SERVER_URL: stack.mcp.url, REDIRECT_URL: moved.url, MCP_CLIENT_ID: clientId, MCP_CLIENT_SECRET: clientSecret },
    }),
  );
  let seen;
  let grantsDelta;
  const probe = async () => {
    if (seen) return seen;
    const before = grants(stack.as).success;
    const response = await mf.dispatchFetch("http://probe.local/", { method: "POST" });
    const text = await response.text();
    assertEqual(response.status, 200, `probe worker (${text.slice(0, 300)})`);
    grantsDelta = grants(stack.as).success - before;
    seen = JSON.parse(text);
    return seen;
  };

  return {
    close: async () => {
      await mf.dispose();
      await moved.close();
    },
    tests: [
      {
        name: 'workerd: a plain fetch with redirect: "error" throws a TypeError (why authFetch emulates it)',
        async run() {
          const { plain } = await probe();
          assert(plain.thrown === "TypeError", `plain workerd fetch: ${JSON.stringify(plain)}`);
          ctx.notes.push(`workerd plain fetch redirect:"error": ${plain.thrown}: ${plain.message}`);
        },
      },
      {
        name: 'workerd: authFetch with redirect: "error" to the protected MCP server succeeds (401 → token → retry; initialize answered)',
        async run() {
          const result = (await probe()).protected;
          assertEqual(result.status, 200, `initialize status (${JSON.stringify(result).slice(0, 300)})`);
          assert(result.body.includes('"serverInfo"') && result.body.includes("e2e-protected-mcp-server"), `initialize body: ${result.body.slice(0, 300)}`);
          assertEqual(grantsDelta, 1, "token requests the AS granted");
        },
      },
      {
        name: 'workerd: authFetch with redirect: "error" to a URL that 302s rejects with ClientCredentialsError unexpected_redirect, not TypeError',
        async run() {
          const { redirecting, redirectingPost } = await probe();
          for (const [label, result] of [
            ["GET", redirecting],
            ["POST", redirectingPost],
          ]) {
            assertEqual(
              { thrown: result.thrown, typed: result.typed, code: result.code, status: result.status },
              { thrown: "ClientCredentialsError", typed: true, code: "unexpected_redirect", status: 302 },
              `${label} to the 302`,
            );
            assert(result.message.includes('redirect: "error"'), `${label}: the message does not say why: ${result.message}`);
          }
          // Each went out once and was not followed (the 302 points at the MCP server); the plain
          // fetch threw before sending anything.
          assertEqual(moved.counter.requests, 2, "requests at the redirecting server (GET + POST)");
        },
      },
    ],
  };
}
