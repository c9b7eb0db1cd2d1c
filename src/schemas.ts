import * as z from "zod/mini";

const url = z.string().check(z.minLength(1), z.maxLength(2048));
const stringList = z.array(z.string().check(z.maxLength(512))).check(z.maxLength(256));

/** RFC 9728 §2 (only the members this client uses are checked). */
export const ProtectedResourceMetadata = z.looseObject({
  resource: url,
  authorization_servers: z.optional(z.array(url).check(z.maxLength(32))),
  scopes_supported: z.optional(stringList),
});
export type ProtectedResourceMetadata = z.infer<typeof ProtectedResourceMetadata>;

/** RFC 8414 §2 / OpenID Connect Discovery §3. */
export const AuthorizationServerMetadata = z.looseObject({
  issuer: url,
  token_endpoint: z.optional(url),
  token_endpoint_auth_methods_supported: z.optional(stringList),
  token_endpoint_auth_signing_alg_values_supported: z.optional(stringList),
  grant_types_supported: z.optional(stringList),
  scopes_supported: z.optional(stringList),
});
export type AuthorizationServerMetadata = z.infer<typeof AuthorizationServerMetadata>;

/** Some servers (older Entra ID) send `expires_in` as a numeric string. */
const seconds = z.union([z.number().check(z.nonnegative()), z.pipe(z.string().check(z.regex(/^\d{1,10}$/)), z.transform(Number))]);

/** RFC 6749 §5.1. */
export const TokenResponse = z.looseObject({
  // Visible ASCII only (RFC 6749 §A.12 minus space): it goes into an Authorization header.
  access_token: z.string().check(z.minLength(1), z.maxLength(65536), z.regex(/^[\x21-\x7e]+$/)),
  token_type: z.string().check(z.minLength(1), z.maxLength(64)),
  expires_in: z.optional(seconds),
  scope: z.optional(z.string().check(z.maxLength(4096))),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

/** RFC 6749 §5.2. */
export const OAuthErrorResponse = z.looseObject({
  error: z.string().check(z.minLength(1), z.maxLength(256)),
  error_description: z.optional(z.string()),
});

/** Names the first few offending fields without echoing their values (which may be tokens). */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.code}`)
    .join("; ");
}
