import { ClientCredentialsError, sanitize } from "../errors.js";
import { describe } from "../http.js";
import { UsageError } from "./args.js";
import { discover } from "./discover.js";
import { fetchCommand } from "./fetch.js";
import { HELP } from "./help.js";
import { createOutput, type Io, type Output } from "./output.js";
import { proxy } from "./proxy.js";
import { RpcHttpError, VERSION } from "./rpc.js";
import { stdio } from "./stdio.js";
import { token } from "./token.js";

const COMMANDS: Record<string, (args: string[], output: Output) => Promise<number>> = { token, discover, fetch: fetchCommand, stdio, proxy };

/** Runs one command line; resolves to the exit code (0 ok, 1 a server failed or refused, 2 usage). */
export async function run(argv: string[], io: Io): Promise<number> {
  const output = createOutput(io);
  const [name, ...args] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    const topic = name === "help" && args[0] !== undefined ? args[0] : "main";
    if (!HELP[topic]) {
      output.info(`${output.paint("red", "error:")} no help for ${JSON.stringify(topic)}; the commands are ${Object.keys(COMMANDS).join(", ")}`);
      return 2;
    }
    // Usage shown for a mistake goes where errors go, so `$(…)` captures nothing.
    (name === undefined ? io.stderr : io.stdout).write(`${HELP[topic]}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    output.info(`${output.paint("red", "error:")} unknown command ${JSON.stringify(name)}; the commands are ${Object.keys(COMMANDS).join(", ")} (see --help)`);
    return 2;
  }
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout.write(`${HELP[name]}\n`);
    return 0;
  }
  try {
    return await command(args, output);
  } catch (error) {
    const { message, code } = explain(error);
    output.info(`${output.paint("red", "error:")} ${message}`);
    return code;
  }
}

/** What to print, and the exit code. A ClientCredentialsError's message never holds a secret. */
function explain(error: unknown): { message: string; code: number } {
  if (error instanceof UsageError) return { message: error.message, code: 2 };
  if (error instanceof ClientCredentialsError) {
    const detail = [error.code, error.status && `HTTP ${error.status}`].filter(Boolean).join(", ");
    return { message: `${error.message}${detail ? ` (${detail})` : ""}`, code: error.phase === "config" ? 2 : 1 };
  }
  if (error instanceof RpcHttpError) return { message: redact(error.message), code: 1 };
  return { message: redact(describe(error)), code: 1 };
}

/**
 * Text a server sent back may echo what it received: credentials after an auth scheme, and
 * anything shaped like a JWT, are cut; control characters go (no escape sequences of its own).
 */
function redact(text: string): string {
  const cut = text
    .replace(/\b((?:(?:Bearer|DPoP|Basic)\s+)+)[\w~+/.=-]+/gi, "$1[redacted]")
    .replace(/(access_token|refresh_token|client_secret|client_assertion|assertion)(["']?\s*[:=]\s*["']?)[^"'&\s,}]+/gi, "$1$2[redacted]")
    .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, "[redacted JWT]");
  return sanitize(cut, 2000);
}
