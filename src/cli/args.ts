import { type ParseArgsConfig, parseArgs } from "node:util";

/** A mistake on the command line: exit code 2, and a message that names the fix. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

type OptionSpec = NonNullable<ParseArgsConfig["options"]>[string];
export type OptionSpecs = Record<string, OptionSpec>;
export type Values = Record<string, string | boolean | string[] | undefined>;

/** Flags every command that authenticates takes (see credentials.ts). */
export const CREDENTIAL_OPTIONS = {
  "client-id": { type: "string" },
  "client-secret": { type: "string" },
  "private-key-file": { type: "string" },
  "key-id": { type: "string" },
  alg: { type: "string" },
  "auth-method": { type: "string" },
  "assertion-file": { type: "string" },
  "github-oidc": { type: "boolean" },
  "client-assertion": { type: "boolean" },
  "assertion-audience": { type: "string" },
  scope: { type: "string" },
  resource: { type: "string" },
  "no-resource": { type: "boolean" },
  "resource-url": { type: "string" },
  issuer: { type: "string" },
  "token-endpoint": { type: "string" },
  "allow-insecure-requests": { type: "boolean" },
  dpop: { type: "boolean" },
  timeout: { type: "string" },
} as const satisfies OptionSpecs;

export const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
  verbose: { type: "boolean", short: "v" },
} as const satisfies OptionSpecs;

/**
 * node:util's parser, strict, with its errors rewritten to name the fix: the closest flag for a
 * misspelt one, an example for a missing value.
 */
export function parse(command: string, args: string[], options: OptionSpecs, positionals = 0): { values: Values; positionals: string[] } {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true }) as { values: Values; positionals: string[] };
  } catch (error) {
    throw usageFromParser(command, error, options);
  }
  if (parsed.values.help) return parsed;
  if (parsed.positionals.length > positionals) {
    const extra = parsed.positionals[positionals]!;
    const hint = positionals ? "" : "; it takes no arguments, only flags";
    // A stray word may be the second half of an unquoted secret: only a URL is quoted back.
    const shown = strayUrl(extra) ?? `number ${positionals + 1} (not shown: it may be part of a secret; quote values with spaces)`;
    throw new UsageError(`${command}: unexpected argument ${shown}${hint} (see mcp-client-credentials ${command} --help)`);
  }
  return parsed;
}

/** A stray URL, quoted without what may be a secret in it (user, password, query). */
function strayUrl(text: string): string | undefined {
  if (!/^https?:\/\//.test(text)) return undefined;
  try {
    const url = new URL(text);
    return JSON.stringify(`${url.origin}${url.pathname}`);
  } catch {
    return undefined;
  }
}

function usageFromParser(command: string, error: unknown, options: OptionSpecs): UsageError {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const flag = /'(-{1,2}[^'\s,]*)/.exec(message)?.[1] ?? "";
  const help = `(see mcp-client-credentials ${command} --help)`;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const name = flag.replace(/^-+/, "").split("=")[0]!;
    const near = closest(name, Object.keys(options));
    return new UsageError(`${command}: unknown flag ${flag.split("=")[0]}${near ? `; did you mean --${near}?` : ""} ${help}`);
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const takesValue = /argument missing/.test(message);
    if (/argument is ambiguous/.test(message)) {
      const form = flag.startsWith("--") ? `${flag}=-…` : `${flag}-…`;
      return new UsageError(`${command}: ${flag} needs a value; for a value that starts with "-", write ${form} ${help}`);
    }
    // The parser quotes the value it refused; a value may be a secret, so only the flag is named.
    return new UsageError(
      takesValue ? `${command}: ${flag} needs a value, e.g. ${flag} ${example(flag)} ${help}` : `${command}: ${flag} takes no value ${help}`,
    );
  }
  return new UsageError(`${command}: ${message.replace(/"[^"]*"/g, "…")} ${help}`);
}

function example(flag: string): string {
  if (/server|issuer|endpoint|resource/.test(flag)) return "https://…";
  if (/file|data|^-d$/.test(flag)) return "@path";
  if (/port/.test(flag)) return "0";
  if (/header|^-H$/.test(flag)) return "'Name: value'";
  return "<value>";
}

/** The known flag within two edits of `name`, if exactly one is nearest. */
function closest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

export function stringValue(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/** A positive whole number of milliseconds, or a usage error naming the flag. */
export function millis(values: Values, name: string): number | undefined {
  const value = stringValue(values, name);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new UsageError(`--${name} takes milliseconds, a whole number above 0 (got ${JSON.stringify(value)})`);
  return parsed;
}

/** An http(s) URL from the command line, or a usage error that says what was expected. */
export function urlArgument(command: string, value: string | undefined, what = "the MCP server URL"): URL {
  if (!value) throw new UsageError(`${command}: needs ${what}, e.g. mcp-client-credentials ${command} https://mcp.example.com/mcp`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${command}: ${what} is not an absolute URL; write it with its scheme, e.g. https://mcp.example.com/mcp`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new UsageError(`${command}: ${what} must be an http(s) URL`);
  if (url.username || url.password) {
    throw new UsageError(`${command}: ${what} must not hold a user or password; give credentials with MCP_CLIENT_ID and MCP_CLIENT_SECRET`);
  }
  return url;
}
