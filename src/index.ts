export { type BearerChallenge, bearerChallenge, type Challenge, parseWwwAuthenticate } from "./discovery/challenge.js";
export {
  ClientCredentialsError,
  type ClientCredentialsErrorCode,
  type ClientCredentialsErrorOptions,
  type ClientCredentialsPhase,
  isClientCredentialsError,
  type OAuthErrorCode,
} from "./errors.js";
export { type AuthenticatedFetch, type GetTokenOptions, withClientCredentials } from "./fetch.js";
export { type MemoryStore, type MemoryStoreOptions, memoryStore } from "./stores/memory.js";
export { type SealingKey, sealedStore } from "./stores/sealed.js";
export type {
  AccessToken,
  AssertionContext,
  AssertionSource,
  Awaitable,
  ClientAuthMethod,
  ClientCredentialsEvent,
  ClientCredentialsOptions,
  CommonOptions,
  DpopOptions,
  FetchLike,
  GrantType,
  LockingTokenStore,
  StoredToken,
  TokenAuthMethod,
  TokenStore,
  WorkloadIdentityOptions,
} from "./types.js";
export { withWorkloadIdentity } from "./workload-identity.js";
