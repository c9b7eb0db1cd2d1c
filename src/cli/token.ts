import { DEFAULTS } from "../options.js";
import { COMMON_OPTIONS, CREDENTIAL_OPTIONS, millis, parse, stringValue, UsageError, urlArgument } from "./args.js";
import { requireCredentials } from "./credentials.js";
import type { Output } from "./output.js";
import { probe } from "./probe.js";

export const TOKEN_OPTIONS = { ...COMMON_OPTIONS, ...CREDENTIAL_OPTIONS, server: { type: "string" }, json: { type: "boolean" } } as const;

/**
 * Prints an access token alone on stdout (`TOKEN=$(…)`), or with `--json` what is known about it.
 * With `--server`, the server's own 401 starts discovery, as it would for a request.
 */
export async function token(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parse("token", args, TOKEN_OPTIONS, 1);
  if (values.server !== undefined && positionals[0] !== undefined) throw new UsageError("token: give the server once, as --server URL or as the argument");
  const server = stringValue(values, "server") ?? positionals[0];
  const isStatic = values.issuer !== undefined || values["token-endpoint"] !== undefined;
  if (server === undefined && !isStatic) {
    throw new UsageError("token: say where: --server https://mcp.example.com/mcp, or --issuer / --token-endpoint with --resource (see --help)");
  }
  const url = server === undefined ? undefined : urlArgument("token", server, "--server");
  const authFetch = requireCredentials(values, output).create(fetch, url);
  const stop = output.spin(server ? `discovering ${server}` : "requesting a token");
  let got: Awaited<ReturnType<typeof authFetch.getToken>>;
  try {
    if (url !== undefined) {
      const timeoutMs = millis(values, "timeout") ?? DEFAULTS.timeoutMs;
      const answer = await probe(url, fetch, timeoutMs);
      got = await authFetch.getToken(url, { wwwAuthenticate: answer.status === 401 ? answer.wwwAuthenticate : undefined });
    } else {
      got = await authFetch.getToken();
    }
  } finally {
    stop();
  }
  if (values.json) {
    const json = {
      accessToken: got.accessToken,
      tokenType: got.tokenType,
      expiresAt: new Date(got.expiresAt).toISOString(),
      expiresIn: Math.max(0, Math.floor((got.expiresAt - Date.now()) / 1000)),
      scope: got.scope,
      resource: got.resource,
      issuer: got.issuer,
    };
    output.io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    output.io.stdout.write(`${got.accessToken}\n`);
  }
  return 0;
}
