// Cloudflare `agents`: examples/cloudflare-agent.js, bundled verbatim, as a Durable Object agent
// in workerd (Miniflare) that reaches the loopback MCP SDK server through our auth provider
// adapter; then the Durable Object restarts (a new workerd on the same persisted DO storage) and
// the connection agents restores by itself must still be authorized.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import { assert, assertEqual, bundleWorker, grants, workerOptions } from "./harness.mjs";

const ORIGIN = "http://agent.local";

/** One agent deployment: its Worker options over a DO storage dir that outlives each workerd. */
async function deployment(scriptPath, bindings) {
  const persist = await mkdtemp(path.join(os.tmpdir(), "mcc-cf-agents-"));
  const options = workerOptions(scriptPath, {
    bindings,
    durableObjects: { ToolsAgent: { className: "ToolsAgent", useSQLite: true } },
    durableObjectsPersist: persist,
  });
  let mf;
  return {
    /** Starts workerd (a fresh one after `restart`): every Durable Object starts from storage. */
    async call(pathname) {
      mf ??= new Miniflare(options);
      const response = await mf.dispatchFetch(`${ORIGIN}${pathname}`, { method: "POST" });
      return { status: response.status, text: (await response.text()).trim() };
    },
    async restart() {
      await mf?.dispose();
      mf = undefined;
    },
    async close() {
      await mf?.dispose().catch(() => {});
      mf = undefined;
      await rm(persist, { recursive: true, force: true });
    },
  };
}

/** @param {{ stack: import("../e2e/servers/stack.mjs").Stack }} ctx */
export async function agentsTests(ctx) {
  const { stack } = ctx;
  const scriptPath = await bundleWorker("examples/cloudflare-agent.js", "cloudflare-agent.mjs");
  const fetchRoutePath = await bundleWorker("test/cloudflare-agents/workers/agent-fetch-route.js", "agent-fetch-route.mjs");
  const { clientId, clientSecret } = stack.credentials.clientSecret;
  const bindings = { MCP_SERVER_URL: stack.mcp.url, MCP_CLIENT_ID: clientId, MCP_CLIENT_SECRET: clientSecret };
  const good = await deployment(scriptPath, bindings);
  const fetchRoute = await deployment(fetchRoutePath, bindings);
  const wrongSecret = `${clientSecret}-wrong`;
  ctx.secrets.push(wrongSecret);
  const bad = await deployment(scriptPath, { ...bindings, MCP_CLIENT_SECRET: wrongSecret });
  let grantsBefore;
  let requestsBefore;

  return {
    close: async () => {
      await good.close();
      await fetchRoute.close();
      await bad.close();
    },
    tests: [
      {
        name: "agents: addMcpServer with createMcpOAuthProvider → authProvider(authFetch, url); the agent's add(2, 3) = 5 with one token request",
        async run() {
          grantsBefore = grants(stack.as);
          requestsBefore = stack.mcp.requests.length;
          assertEqual(await good.call("/connect"), { status: 200, text: "connected" }, "POST /connect");
          assertEqual(await good.call("/add?a=2&b=3"), { status: 200, text: "5" }, "POST /add?a=2&b=3");
          assertEqual(grants(stack.as).success - grantsBefore.success, 1, "token requests the AS granted");
          const mcpCalls = stack.mcp.requests.slice(requestsBefore).filter((r) => r.path === "/mcp");
          assert(
            mcpCalls.some((r) => r.rpc === "tools/call" && r.status === 200),
            `no successful tools/call reached the MCP server: ${JSON.stringify(mcpCalls.map((r) => [r.rpc, r.status]))}`,
          );
          // The provider hands out the token before the first request: the server never had to say 401.
          assert(
            mcpCalls.every((r) => r.authorized && r.status !== 401),
            `a request without a token or refused: ${JSON.stringify(mcpCalls.map((r) => [r.rpc, r.authorized, r.status]))}`,
          );
        },
      },
      {
        name: "agents: after the Durable Object restarts, the connection agents restores is authorized (add(2, 3) = 5 without re-adding; one new token)",
        async run() {
          assert(grantsBefore, "the first agents test did not run");
          await good.restart();
          const requestsAtRestart = stack.mcp.requests.length;
          // No /connect: agents restores the server from its SQLite catalog and asks
          // createMcpOAuthProvider for a provider again; the new isolate's authFetch has an empty cache.
          assertEqual(await good.call("/add?a=2&b=3"), { status: 200, text: "5" }, "POST /add?a=2&b=3 after the restart");
          assertEqual(await good.call("/add?a=20&b=22"), { status: 200, text: "42" }, "POST /add?a=20&b=22 after the restart");
          assertEqual(grants(stack.as).success - grantsBefore.success, 2, "token requests the AS granted in all (one per workerd)");
          const mcpCalls = stack.mcp.requests.slice(requestsAtRestart).filter((r) => r.path === "/mcp");
          assertEqual(mcpCalls.filter((r) => r.rpc === "tools/call" && r.status === 200).length, 2, "successful tools/call after the restart");
          assert(
            mcpCalls.every((r) => r.authorized && r.status !== 401),
            `after the restart a request without a token or refused: ${JSON.stringify(mcpCalls.map((r) => [r.rpc, r.authorized, r.status]))}`,
          );
        },
      },
      {
        name: "agents (why the adapter): authFetch as the transport's fetch works until the restart; the restored connection has no token (401s, no new token request)",
        async run() {
          const before = grants(stack.as).success;
          assertEqual(await fetchRoute.call("/connect"), { status: 200, text: "connected" }, "POST /connect");
          assertEqual(await fetchRoute.call("/add?a=2&b=3"), { status: 200, text: "5" }, "POST /add before the restart");
          assertEqual(grants(stack.as).success - before, 1, "token requests before the restart");
          await fetchRoute.restart();
          const requestsAtRestart = stack.mcp.requests.length;
          const after = await fetchRoute.call("/add?a=2&b=3");
          assert(after.status !== 200 && after.text !== "5", `the restored connection was authorized: ${JSON.stringify(after)}`);
          const calls = stack.mcp.requests.slice(requestsAtRestart).filter((r) => r.path === "/mcp");
          assert(
            calls.length > 0 && calls.every((r) => !r.authorized && r.status === 401),
            `after the restart: ${JSON.stringify(calls.map((r) => [r.rpc, r.authorized, r.status]))}`,
          );
          assertEqual(grants(stack.as).success - before, 1, "token requests after the restart (none: authFetch is gone)");
          ctx.notes.push(`fetch route after restart: ${after.status} ${after.text.split("\n")[0].slice(0, 200)}`);
        },
      },
      {
        name: "agents: with a wrong client secret /connect fails naming invalid_client (the AS refused it), no token reaches the server, no secret in the error",
        async run() {
          const before = grants(stack.as);
          const requestsAtStart = stack.mcp.requests.length;
          const connect = await bad.call("/connect");
          const add = await bad.call("/add?a=2&b=3");
          // The recipe's warm-up surfaces the ClientCredentialsError (agents alone would say
          // "OAuth configuration incomplete: missing authUrl").
          assertEqual(connect.status, 500, "POST /connect status");
          assert(/invalid_client/.test(connect.text), `the error does not name invalid_client: ${connect.text.split("\n")[0]}`);
          assert(add.status !== 200 && add.text !== "5", "the tool ran without a valid client");
          assertEqual(grants(stack.as).success - before.success, 0, "tokens granted");
          const refused = stack.as.events.filter((e) => e.type === "grant.error").slice(before.error);
          assert(refused.length >= 1 && refused.every((e) => e.error === "invalid_client"), `AS refusals: ${JSON.stringify(refused.map((e) => e.error))}`);
          const calls = stack.mcp.requests.slice(requestsAtStart).filter((r) => r.path === "/mcp");
          assert(
            calls.every((r) => !r.authorized),
            `a token reached the MCP server: ${JSON.stringify(calls.map((r) => [r.rpc, r.authorized, r.status]))}`,
          );
          for (const secret of [wrongSecret, clientSecret]) {
            assert(!connect.text.includes(secret) && !add.text.includes(secret), "a client secret appears in the Worker's error");
          }
          const firstLine = (text) => text.split("\n")[0].slice(0, 300);
          ctx.notes.push(`wrong secret: /connect → ${connect.status} ${firstLine(connect.text)}; /add → ${add.status} ${firstLine(add.text)}`);
        },
      },
    ],
  };
}
