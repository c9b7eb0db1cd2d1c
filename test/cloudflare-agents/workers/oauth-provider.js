// @cloudflare/workers-oauth-provider as the authorization server of a tiny protected API at /mcp,
// with dynamic client registration. It has no client_credentials grant: its metadata lists
// authorization_code and refresh_token, its token endpoint answers unsupported_grant_type.
import { OAuthProvider } from "@cloudflare/workers-oauth-provider";

const api = {
  fetch: (_request, _env, ctx) => Response.json({ ok: true, props: ctx.props ?? null }),
};
const fallback = {
  fetch: () => new Response("not found", { status: 404 }),
};

// The canonical resource and issuer are this Worker's own origin, known only from a request
// (Miniflare picks the port).
let provider;

export default {
  fetch(request, env, ctx) {
    const origin = new URL(request.url).origin;
    provider ??= new OAuthProvider({
      apiRoute: "/mcp",
      apiHandler: api,
      defaultHandler: fallback,
      authorizeEndpoint: "/authorize",
      tokenEndpoint: "/token",
      clientRegistrationEndpoint: "/register",
      scopesSupported: ["mcp:tools"],
      resourceMetadata: { resource: `${origin}/mcp`, authorization_servers: [origin], bearer_methods_supported: ["header"] },
    });
    return provider.fetch(request, env, ctx);
  },
};
