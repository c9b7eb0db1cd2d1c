/**
 * `mcp-client-credentials/msw`: a test kit that simulates an OAuth-protected MCP deployment
 * (protected resource metadata, authorization server metadata, a client_credentials token
 * endpoint and the protected resource) with msw request handlers.
 * @module
 */

export { faults } from "./faults.js";
export { createMcpAuthMock } from "./mock.js";
export type {
  IssuedToken,
  McpAuthMock,
  McpAuthMockOptions,
  MockAuthMethod,
  MockClient,
  MockDpopOptions,
  MockEndpoint,
  MockFault,
  MockWorkload,
  RecordedDpop,
  RecordedRequest,
} from "./types.js";
