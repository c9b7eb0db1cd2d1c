export { withClientCredentials, type AuthenticatedFetch } from "./fetch.js";
export { ClientCredentialsError, isClientCredentialsError, type ClientCredentialsErrorOptions, type ClientCredentialsPhase } from "./errors.js";
export { memoryStore, type MemoryStoreOptions } from "./stores/memory.js";
export { parseWwwAuthenticate, bearerChallenge, type Challenge, type BearerChallenge } from "./discovery/challenge.js";
export type {
  AccessToken,
  ClientAuthMethod,
  ClientCredentialsEvent,
  ClientCredentialsOptions,
  FetchLike,
  StoredToken,
  TokenStore,
} from "./types.js";
