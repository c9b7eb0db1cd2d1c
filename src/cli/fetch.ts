import { readFileSync } from "node:fs";
import { COMMON_OPTIONS, CREDENTIAL_OPTIONS, millis, parse, stringValue, UsageError, urlArgument, type Values } from "./args.js";
import { requireCredentials } from "./credentials.js";
import type { Output } from "./output.js";
import { callOnce, type JsonRpcMessage, sseEvents } from "./rpc.js";

export const FETCH_OPTIONS = {
  ...COMMON_OPTIONS,
  ...CREDENTIAL_OPTIONS,
  request: { type: "string", short: "X" },
  header: { type: "string", short: "H", multiple: true },
  data: { type: "string", short: "d" },
  json: { type: "string" },
  rpc: { type: "string" },
  params: { type: "string" },
  include: { type: "boolean", short: "i" },
} as const;

/** `fetch <url>`: curl through the middleware, or one MCP request with `--rpc`. Exit 1 on HTTP ≥ 400 or a JSON-RPC error. */
export async function fetchCommand(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parse("fetch", args, FETCH_OPTIONS, 1);
  const url = urlArgument("fetch", positionals[0]);
  const headers = readHeaders(values);
  const rpc = stringValue(values, "rpc");
  if (rpc !== undefined && (values.data !== undefined || values.json !== undefined || values.request !== undefined)) {
    throw new UsageError("fetch: --rpc builds the request itself; drop -d, --json and -X (pass arguments with --params '{…}')");
  }
  if (values.params !== undefined && rpc === undefined)
    throw new UsageError('fetch: --params goes with --rpc METHOD, e.g. --rpc tools/call --params \'{"name":"echo"}\'');
  // Every mistake on the command line is reported before credentials are read or stdin is.
  const hasBody = values.data !== undefined || values.json !== undefined;
  const method = (stringValue(values, "request") ?? (hasBody ? "POST" : "GET")).toUpperCase();
  if (!/^[!#$%&'*+.^_`|~0-9A-Z-]+$/.test(method)) throw new UsageError("fetch: -X takes an HTTP method, e.g. -X POST");
  if (hasBody && (method === "GET" || method === "HEAD")) throw new UsageError(`fetch: a ${method} request has no body; drop -d/--json or use -X POST`);
  const params = rpc === undefined ? undefined : readParams(values);
  const body = rpc === undefined ? readBody(values, headers) : undefined;
  const authFetch = requireCredentials(values, output).create(fetch, url);
  const { stdout } = output.io;

  if (rpc !== undefined) {
    const message = await callOnce({
      url,
      method: rpc,
      params,
      headers,
      fetch: authFetch,
      timeoutMs: millis(values, "timeout"),
      onOther: values.verbose ? (other) => output.info(output.paint("dim", `· ${JSON.stringify(other)}`)) : undefined,
    });
    stdout.write(`${JSON.stringify(message)}\n`);
    return failed(message) ? 1 : 0;
  }

  const response = await authFetch(url, { method, headers, body });
  if (values.include) {
    const lines = [`HTTP ${response.status} ${response.statusText}`.trimEnd()];
    for (const [name, value] of response.headers) lines.push(`${name}: ${value}`);
    stdout.write(`${lines.join("\n")}\n\n`);
  }
  if (response.body && /^text\/event-stream/i.test(response.headers.get("content-type") ?? "")) {
    for await (const event of sseEvents(response.body)) if (event.data) stdout.write(`${event.data}\n`);
  } else if (response.body) {
    const decoder = new TextDecoder();
    for await (const chunk of response.body) stdout.write(decoder.decode(chunk, { stream: true }));
    stdout.write(decoder.decode());
  }
  return response.status >= 400 ? 1 : 0;
}

function failed(message: JsonRpcMessage): boolean {
  if (message.error !== undefined) return true;
  return (message.result as { isError?: unknown } | undefined)?.isError === true;
}

function readHeaders(values: Values): Headers {
  const headers = new Headers();
  for (const line of (values.header as string[] | undefined) ?? []) {
    const colon = line.indexOf(":");
    if (colon < 1) throw new UsageError(`fetch: -H takes 'Name: value' (got a header without a name or colon)`);
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch {
      throw new UsageError(`fetch: -H ${JSON.stringify(line.slice(0, colon))} is not a valid header`);
    }
  }
  if (headers.has("authorization")) {
    throw new UsageError("fetch: the middleware sets Authorization itself; drop -H 'Authorization: …' (use plain curl to send a token of your own)");
  }
  return headers;
}

/** `-d text`, `-d @file`, `-d @-` (stdin), or `--json text` (with its content type, as curl does). */
function readBody(values: Values, headers: Headers): string | undefined {
  const data = stringValue(values, "data");
  const json = stringValue(values, "json");
  if (data !== undefined && json !== undefined) throw new UsageError("fetch: give -d or --json, not both");
  const value = data ?? json;
  if (value === undefined) return undefined;
  if (json !== undefined) {
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    if (!headers.has("accept")) headers.set("accept", "application/json");
  } else if (!headers.has("content-type")) {
    headers.set("content-type", "application/x-www-form-urlencoded");
  }
  return readAt(value, data !== undefined ? "-d" : "--json");
}

function readAt(value: string, flag: string): string {
  if (!value.startsWith("@")) return value;
  const path = value.slice(1);
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (error) {
    throw new UsageError(`fetch: ${flag} ${value}: the file could not be read (${(error as { code?: string }).code ?? "unreadable"})`);
  }
}

function readParams(values: Values): unknown {
  const text = stringValue(values, "params");
  if (text === undefined) return undefined;
  const source = readAt(text, "--params");
  try {
    return JSON.parse(source);
  } catch {
    throw new UsageError('fetch: --params takes JSON, e.g. --params \'{"name":"echo","arguments":{"text":"hi"}}\'');
  }
}
