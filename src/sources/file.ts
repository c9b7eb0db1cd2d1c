/**
 * A token file as an assertion source: Kubernetes projected service-account tokens, Azure's
 * `AZURE_FEDERATED_TOKEN_FILE`, SPIFFE helpers. Node, Deno and Bun (`node:fs`).
 * @module
 */
import { readFile } from "node:fs/promises";
import { ClientCredentialsError } from "../errors.js";
import type { AssertionContext } from "../types.js";

/**
 * The JWT in a file, read before each token request, so a rotated token is picked up (kubelet
 * swaps a symlink to a new file; a same-size rewrite within the file system's timestamp
 * resolution would fool a modification-time check, and a token request is rare enough to read a
 * few KiB). Surrounding whitespace is trimmed.
 * @example
 * import { fileToken } from "mcp-client-credentials/sources/file";
 * withWorkloadIdentity({ assertion: fileToken("/var/run/secrets/tokens/mcp") });
 */
export function fileToken(path: string | URL): (context: AssertionContext) => Promise<string> {
  const shown = typeof path === "string" ? path : decodeURIComponent(path.pathname);
  return async () => {
    let value: string;
    try {
      value = (await readFile(path, "utf8")).trim();
    } catch (error) {
      const reason = (error as { code?: string }).code ?? (error instanceof Error ? error.message : "unreadable");
      throw new ClientCredentialsError("token", `the token file ${shown} could not be read (${reason})`, { code: "assertion_unavailable", cause: error });
    }
    if (value === "") throw new ClientCredentialsError("token", `the token file ${shown} is empty`, { code: "assertion_unavailable" });
    return value;
  };
}
