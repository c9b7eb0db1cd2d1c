import { type AuthenticatedFetch, middleware } from "./fetch.js";
import { resolveWorkloadOptions } from "./options.js";
import type { FetchLike, WorkloadIdentityOptions } from "./types.js";

/**
 * Fetch middleware for workload identity federation (MCP extension SEP-1933): the identity the
 * platform already gives a workload (a Kubernetes service-account token, a GitHub Actions OIDC
 * token, a SPIFFE JWT-SVID) is presented as an RFC 7523 JWT-bearer grant, so no client secret or
 * key is stored anywhere. Discovery, caching, stores, retries, events and errors are those of
 * {@link withClientCredentials}. `next` defaults to `globalThis.fetch`.
 *
 * @example
 * import { fileToken } from "mcp-client-credentials/sources/file";
 * const authFetch = withWorkloadIdentity({ assertion: fileToken("/var/run/secrets/tokens/mcp") })();
 */
export function withWorkloadIdentity(options: WorkloadIdentityOptions): (next?: FetchLike) => AuthenticatedFetch {
  return middleware(resolveWorkloadOptions(options));
}
