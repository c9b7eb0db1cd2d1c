import type * as z from "zod/mini";
import type { Schemas } from "./validators.js";

export type ProtectedResourceMetadata = z.infer<Schemas["resource"]>;
export type AuthorizationServerMetadata = z.infer<Schemas["server"]>;
export type TokenResponse = z.infer<Schemas["token"]>;

let validators: Promise<typeof import("./validators.js")> | undefined;

/**
 * The document when it has the shape, else the first few offending fields, named without
 * their values (which may be tokens): `access_token: invalid_type; (root): …`. zod/mini is
 * imported on first use, like jose: it is most of what validation weighs (4.9 KB gzipped of a
 * 17 KB bundle), and nothing before the first discovery or token response needs it.
 */
export async function validate<K extends keyof Schemas>(kind: K, json: unknown): Promise<z.infer<Schemas[K]> | string> {
  validators ??= import("./validators.js");
  return (await validators).check(kind, json);
}

/**
 * Visible ASCII only (RFC 6749 §A.12 minus space), at most 64 KiB: an access token goes into an
 * Authorization header, whether it came from a server or back from a shared store.
 */
export function isHeaderSafeToken(value: string): boolean {
  return value.length <= 65536 && /^[\x21-\x7e]+$/.test(value);
}
