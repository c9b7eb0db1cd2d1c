// authFetch inside workerd with `redirect: "error"` (what the AI SDK's MCP transport sends). A
// plain workerd fetch throws a TypeError for it; authFetch must send it as "manual" and turn a
// redirect into a ClientCredentialsError.
import { ClientCredentialsError, withClientCredentials } from "../../../dist/index.js";

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "redirect-probe", version: "1.0.0" } },
};

/** What a call ended with, without ever including a token or secret (errors carry neither). */
async function outcome(call) {
  try {
    const response = await call();
    return { status: response.status, body: (await response.text()).slice(0, 2000) };
  } catch (error) {
    return {
      thrown: error?.name,
      typed: error instanceof ClientCredentialsError,
      code: error?.code,
      status: error?.status,
      phase: error?.phase,
      message: error?.message,
    };
  }
}

export default {
  async fetch(_request, env) {
    const authFetch = withClientCredentials({ clientId: env.MCP_CLIENT_ID, clientSecret: env.MCP_CLIENT_SECRET })(fetch);
    const init = {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify(INITIALIZE),
      redirect: "error",
    };
    return Response.json({
      plain: await outcome(() => fetch(env.REDIRECT_URL, { redirect: "error" })),
      protected: await outcome(() => authFetch(env.MCP_SERVER_URL, init)),
      redirecting: await outcome(() => authFetch(env.REDIRECT_URL, { redirect: "error" })),
      redirectingPost: await outcome(() => authFetch(env.REDIRECT_URL, init)),
    });
  },
};
