import * as z from "zod/mini";

// The zod/mini schemas, in a chunk of their own (see validate() in schemas.ts): loaded with the
// first document to check, so a client's first load carries no zod.

// Shapes only: bodies are capped at MAX_RESPONSE_BYTES, and the few values that need more
// (an access token, expires_in) are checked by hand where they are used. Built on first use,
// so loading the module costs nothing.
function build() {
  const string = z.string();
  // Lists of strings are checked in check(): zod's array (or custom) schema would add 250-420
  // bytes gzipped for five fields.
  const list = z.optional(z.unknown() as unknown as z.ZodMiniType<string[]>);
  return {
    /** RFC 9728 §2 (only the members this client uses are checked). */
    resource: z.looseObject({ resource: string, authorization_servers: list, scopes_supported: list }),
    /** RFC 8414 §2 / OpenID Connect Discovery §3. */
    server: z.looseObject({
      issuer: string,
      token_endpoint: z.optional(string),
      token_endpoint_auth_methods_supported: list,
      token_endpoint_auth_signing_alg_values_supported: list,
      grant_types_supported: list,
      scopes_supported: list,
      dpop_signing_alg_values_supported: list,
    }),
    /** RFC 6749 §5.1; `expires_in` is left to the caller (some servers send a numeric string). */
    token: z.looseObject({ access_token: string, token_type: string, scope: z.optional(string) }),
    /** RFC 6749 §5.2. */
    error: z.looseObject({ error: string, error_description: z.optional(string) }),
  };
}

export type Schemas = ReturnType<typeof build>;
const LISTS = [
  "authorization_servers",
  "scopes_supported",
  "token_endpoint_auth_methods_supported",
  "token_endpoint_auth_signing_alg_values_supported",
  "grant_types_supported",
  "dpop_signing_alg_values_supported",
];
let schemas: Schemas | undefined;

/** The document when it has the shape, else the first few offending fields, named without their values. */
export function check<K extends keyof Schemas>(kind: K, json: unknown): z.infer<Schemas[K]> | string {
  schemas ??= build();
  const parsed = schemas[kind].safeParse(json);
  const issues = parsed.success
    ? Object.entries(parsed.data)
        .filter(([name, value]) => LISTS.includes(name) && value !== undefined && !(Array.isArray(value) && value.every((item) => typeof item === "string")))
        .map(([name]) => ({ path: [name], code: "invalid_type" }))
    : parsed.error.issues;
  if (!issues.length) return parsed.data as z.infer<Schemas[K]>;
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.code}`)
    .join("; ");
}
