/**
 * A token file as an assertion source: Kubernetes projected service-account tokens, Azure's
 * `AZURE_FEDERATED_TOKEN_FILE`, SPIFFE helpers. Node, Deno and Bun (`node:fs`).
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import { ClientCredentialsError } from "../errors.js";
import type { AssertionContext } from "../types.js";

/**
 * The JWT in a file, re-read when the file changes: kubelet rotates projected tokens by swapping
 * a symlink, so the modification time, size or inode change and the next token request reads
 * the new one. Surrounding whitespace is trimmed.
 * @example
 * import { fileToken } from "mcp-client-credentials/sources/file";
 * withWorkloadIdentity({ assertion: fileToken("/var/run/secrets/tokens/mcp") });
 */
export function fileToken(path: string | URL): (context: AssertionContext) => Promise<string> {
  const shown = typeof path === "string" ? path : path.pathname;
  let cached: { version: string; value: string } | undefined;
  return async () => {
    try {
      const info = await stat(path);
      const version = `${info.mtimeMs}:${info.size}:${info.ino}`;
      if (cached?.version !== version) cached = { version, value: (await readFile(path, "utf8")).trim() };
      if (cached.value === "") throw new Error("the file is empty");
      return cached.value;
    } catch (error) {
      cached = undefined;
      const reason = (error as { code?: string }).code ?? (error instanceof Error ? error.message : "unreadable");
      throw new ClientCredentialsError("token", `the token file ${shown} could not be read (${reason})`, { code: "assertion_unavailable", cause: error });
    }
  };
}
