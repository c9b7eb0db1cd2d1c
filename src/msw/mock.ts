/**
 * createMcpAuthMock: wires the options, the shared state and the four endpoint handlers.
 * @internal
 */
import type { HttpHandler } from "msw";
import { metadataHandlers } from "./metadata.js";
import { resolveOptions } from "./options.js";
import { resourceHandler } from "./resource.js";
import { MockState } from "./state.js";
import { tokenHandler } from "./token-endpoint.js";
import type { McpAuthMock, McpAuthMockOptions, MockEndpoint, MockFault } from "./types.js";

/**
 * Creates msw handlers that simulate an OAuth-protected MCP deployment: protected resource
 * metadata, authorization server metadata, a client_credentials token endpoint that really
 * verifies client secrets and `private_key_jwt` assertions, and the protected resource itself.
 *
 * @example
 * ```ts
 * const mock = createMcpAuthMock({ clients: [{ clientId: "ci", clientSecret: "s3cret" }] });
 * const server = setupServer(...mock.handlers);
 * ```
 */
export function createMcpAuthMock(options: McpAuthMockOptions): McpAuthMock {
  const config = resolveOptions(options);
  const state = new MockState(config);
  // Order matters only when URLs overlap (e.g. a resource at "/"): the specific endpoints
  // come first, and the resource never claims a well-known or token URL anyway.
  const handlers: HttpHandler[] = [...metadataHandlers(state), tokenHandler(state), resourceHandler(state)];

  return {
    handlers,
    issuer: config.issuer,
    resource: config.resource,
    tokenEndpoint: config.tokenEndpoint,
    resourceMetadataUrl: config.resourceMetadataUrl,
    get requests() {
      return [...state.requests];
    },
    get tokens() {
      return [...state.tokens];
    },
    requestsTo(endpoint: MockEndpoint) {
      return state.requests.filter((request) => request.endpoint === endpoint);
    },
    fault(endpoint: MockEndpoint, fault: MockFault, times = 1) {
      state.queueFault(endpoint, fault, times);
    },
    revoke(accessToken?: string) {
      state.revoke(accessToken);
    },
    rotateDpopNonce(server?: "token" | "resource") {
      state.rotateDpopNonce(server);
    },
    clearRequests() {
      state.requests.length = 0;
    },
    reset() {
      state.reset();
    },
  };
}
