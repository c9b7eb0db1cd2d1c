// The loopback authorization server + MCP resource of the portable suite (test/runtimes/server.mjs),
// with typed helpers for the fleet tests: one tenant per test, request counts per tenant.

export { startServer } from "../runtimes/server.mjs";

/** Creates a tenant with one client (`fleet` / `fleet-secret` unless given) and mock options. */
export async function createTenant(baseUrl, { clients = [{ clientId: "fleet", clientSecret: "fleet-secret" }], options } = {}) {
  const response = await fetch(`${baseUrl}/__control/tenants`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ clients, ...(options ? { options } : {}) }),
  });
  if (response.status !== 201) throw new Error(`creating a tenant: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/** The tenant's request counts, plus `unauthorized`: resource requests sent without Authorization. */
export async function tenantCounts(baseUrl, id) {
  const response = await fetch(`${baseUrl}/__control/tenants/${id}/counts`);
  if (!response.ok) throw new Error(`reading counts: HTTP ${response.status}`);
  const counts = await response.json();
  return {
    token: counts.token,
    resourceMetadata: counts.resourceMetadata,
    authorizationServerMetadata: counts.authorizationServerMetadata,
    resource: counts.resource,
    resourceAuthorized: counts.resourceAuthorized,
    unauthorized: counts.resource - counts.resourceAuthorized,
  };
}

/** after − before, field by field: what one phase of a test cost. */
export function delta(before, after) {
  return Object.fromEntries(Object.keys(after).map((name) => [name, after[name] - before[name]]));
}

/** The part of a phase's cost a warm instance must not pay: discovery, tokens, 401s. */
export function warmCost({ token, resourceMetadata, authorizationServerMetadata, unauthorized }) {
  return { token, resourceMetadata, authorizationServerMetadata, unauthorized };
}

/** What a fresh instance on a warm store costs: nothing but its authorized request. */
export const NOTHING = Object.freeze({ token: 0, resourceMetadata: 0, authorizationServerMetadata: 0, unauthorized: 0 });
