import { resourceOf } from "./discovery/resource-metadata.js";
import { ClientCredentialsError } from "./errors.js";
import { secureUrl } from "./http.js";
import type { ClientCredentialsOptions } from "./types.js";

/** Checks every option up front, so a mistake surfaces before any request is made. */
export function assertOptions(options: ClientCredentialsOptions): void {
  const invalid = (message: string) => new ClientCredentialsError("config", message, { code: "invalid_config" });
  if (typeof options !== "object" || options === null) throw invalid("options are required");
  if (typeof options.clientId !== "string" || options.clientId === "") throw invalid("clientId is required");
  const secret = options.clientSecret !== undefined;
  const key = options.privateKey !== undefined;
  if (secret === key) throw invalid("set exactly one of clientSecret and privateKey");
  if (secret && (typeof options.clientSecret !== "string" || options.clientSecret === "")) throw invalid("clientSecret must be a non-empty string");
  if (options.authMethod === "private_key_jwt" && !key) throw invalid("authMethod private_key_jwt needs privateKey");
  if (options.authMethod && options.authMethod !== "private_key_jwt" && !secret) throw invalid(`authMethod ${options.authMethod} needs clientSecret`);
  if (options.resource === false && options.resourceUrl === undefined) {
    throw invalid("resource: false needs resourceUrl, the URL prefix that may receive tokens (no resource indicator binds them to a server)");
  }
  const insecure = options.allowInsecureRequests ?? false;
  for (const name of ["resource", "resourceUrl", "issuer", "tokenEndpoint"] as const) {
    const value = options[name];
    if (typeof value === "string") secureUrl(value, "config", name, insecure);
    else if (value !== undefined && !(name === "resource" && value === false)) throw invalid(`${name} must be a URL string`);
  }
  for (const name of ["refreshSkewSeconds", "timeoutMs", "retries", "discoveryTtlSeconds"] as const) {
    const value = options[name];
    if (value !== undefined && !(typeof value === "number" && Number.isFinite(value) && value >= 0)) throw invalid(`${name} must be a non-negative number`);
  }
}

/** The URL prefix that may receive tokens, when the options fix one. */
export function configuredBoundary(options: ClientCredentialsOptions): URL | undefined {
  const url = options.resourceUrl ?? (typeof options.resource === "string" ? options.resource : undefined);
  return url === undefined ? undefined : resourceOf(new URL(url));
}
