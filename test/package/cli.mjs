// The bin from the packed tarball, run the way users run it: `npx mcp-client-credentials …` in a
// project that installed the tarball, against the real loopback stack (oidc-provider + the MCP
// SDK server). Called by run.mjs after it has packed and installed the tarball.
//
// npx runs with npm_config_offline=true, so nothing can come from the registry: a command that
// works was resolved from the temp project, where the package exists only as the local tarball
// (the name is not on the registry). npm_* variables of an enclosing `npm run` are dropped, and so
// is the repository's node_modules/.bin from PATH, so neither can point npx back at the repository.
// Tokens and secrets are never part of a failure message.
import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const BIN = "mcp-client-credentials";
const JWT = /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/;

/** The entries of a .tgz (ustar, as npm writes it): path → { mode, text }. */
function untar(buffer) {
  const data = gunzipSync(buffer);
  const entries = new Map();
  const field = (at, length) =>
    data
      .subarray(at, at + length)
      .toString("utf8")
      .replace(/\0.*$/s, "");
  let longName;
  for (let at = 0; at + 512 <= data.length; ) {
    const name = field(at, 100);
    if (!name) break;
    const size = Number.parseInt(field(at + 124, 12).trim() || "0", 8);
    const type = field(at + 156, 1);
    const body = data.subarray(at + 512, at + 512 + size);
    if (type === "x") longName = /\d+ path=([^\n]+)\n/.exec(body.toString("utf8"))?.[1];
    else if (type === "0" || type === "") {
      const prefix = field(at + 345, 155);
      entries.set(longName ?? (prefix ? `${prefix}/${name}` : name), { mode: Number.parseInt(field(at + 100, 8).trim(), 8), text: body.toString("utf8") });
      longName = undefined;
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

/** Node built-ins a bundle imports, with or without `node:` (tsup drops the prefix). */
function builtinsImported(text) {
  const found = new Set();
  for (const [, name] of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s*)["']([^"']+)["']/gm)) {
    if (name.startsWith("node:") || builtinModules.includes(name)) found.add(name);
  }
  return [...found];
}

function exec(command, args, { cwd, env, input = "", timeoutMs = 60_000 }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/**
 * @param {{ root: string, pkg: any, tmp: string, tarball: string | undefined, project: string,
 *   check: (name: string, fn: () => Promise<string | void>) => Promise<void>,
 *   sh: (command: string, args: string[], options?: object) => Promise<{ stdout: string }> }} context
 */
export async function cliChecks({ root, pkg, tmp, tarball, project, check, sh }) {
  const { start } = await import(path.join(root, "test", "e2e", "servers", "stack.mjs"));
  let stack;
  await check("the loopback stack (oidc-provider + the MCP SDK server) for the CLI checks starts", async () => {
    stack = await start();
  });
  if (!stack) return;
  const { clientId, clientSecret } = stack.credentials.clientSecret;
  const url = stack.mcp.url;
  /** Drops what a secret or token would look like from text shown on failure. */
  const redact = (text) =>
    String(text ?? "")
      .replaceAll(clientSecret, "[secret]")
      .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, "[JWT]");
  const fail = (message, result) => Object.assign(new Error(`${message} (exit ${result?.code})`), { stderr: redact(result?.stderr).slice(0, 2000) });

  const repoBin = path.join(root, "node_modules", ".bin");
  const PATH = (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir && path.resolve(dir) !== repoBin)
    .join(path.delimiter);
  const outside = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm_|MCP_)/i.test(name)));
  const env = (extra = {}) => ({ ...outside, PATH, NO_COLOR: "1", npm_config_offline: "true", npm_config_update_notifier: "false", ...extra });
  const credentials = { MCP_CLIENT_ID: clientId, MCP_CLIENT_SECRET: clientSecret };
  const npx = (args, extra = {}) => exec("npx", args, { cwd: project, env: env(extra) });

  try {
    await check(
      "tarball: bin.mcp-client-credentials is an executable file with a node shebang; Node built-ins only in dist/cli/ (and sources/file)",
      async () => {
        if (!tarball) throw new Error("no tarball (npm pack failed)");
        const entries = untar(await readFile(tarball));
        const packed = JSON.parse(entries.get("package/package.json").text);
        const target = packed.bin?.[BIN];
        if (typeof target !== "string") throw new Error(`package.json bin: ${JSON.stringify(packed.bin)}`);
        const file = entries.get(`package/${path.posix.normalize(target)}`);
        if (!file) throw new Error(`bin ${target} is not in the tarball`);
        if (!file.text.startsWith("#!/usr/bin/env node\n")) throw new Error(`bin ${target} starts with ${JSON.stringify(file.text.slice(0, 30))}`);
        if ((file.mode & 0o111) !== 0o111) throw new Error(`bin ${target} has mode ${file.mode.toString(8)}, not executable`);
        // The library runs in browsers and workers; only the bin (and the file-token source) may use Node.
        const offenders = [];
        let cliBuiltins = 0;
        for (const [name, entry] of entries) {
          if (!/^package\/dist\/.*\.c?js$/.test(name)) continue;
          const builtins = builtinsImported(entry.text);
          if (name.startsWith("package/dist/cli/")) cliBuiltins += builtins.length;
          else if (builtins.length && !/^package\/dist\/sources\/file\.c?js$/.test(name)) offenders.push(`${name} (${builtins.join(", ")})`);
        }
        if (offenders.length) throw new Error(`Node built-ins outside dist/cli/: ${offenders.join("; ")}`);
        if (cliBuiltins === 0) throw new Error("found no Node built-in import in dist/cli/: is the scan blind?");
        return `${target}, mode ${file.mode.toString(8)}`;
      },
    );

    await check("npx mcp-client-credentials --help / --version in the temp project (offline)", async () => {
      const help = await npx([BIN, "--help"]);
      if (help.code !== 0 || !/token/.test(help.stdout) || !/stdio/.test(help.stdout)) throw fail("--help", help);
      const version = await npx([BIN, "--version"]);
      if (version.code !== 0 || version.stdout !== `${pkg.version}\n`) throw fail(`--version printed ${JSON.stringify(version.stdout)}`, version);
      const tokenHelp = await npx([BIN, "token", "--help"]);
      if (tokenHelp.code !== 0 || !/--server/.test(tokenHelp.stdout)) throw fail("token --help", tokenHelp);
    });

    await check("npx mcp-client-credentials token --server <loopback MCP URL>: a JWT on stdout that the MCP server accepts", async () => {
      const result = await npx([BIN, "token", "--server", url], credentials);
      const token = result.stdout.endsWith("\n") ? result.stdout.slice(0, -1) : "";
      if (result.code !== 0 || !JWT.test(token)) throw fail(`token: stdout is ${JWT.test(token) ? "a JWT" : "not a lone JWT line"}`, result);
      const response = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
        }),
      });
      await response.body?.cancel();
      if (response.status !== 200) throw new Error(`the MCP server answered ${response.status} to the printed token`);
      if (result.stderr.includes(clientSecret) || result.stderr.includes(token)) throw new Error("stderr holds the secret or the token");
    });

    await check("npx mcp-client-credentials fetch <url> --rpc tools/call --params …: the tool result", async () => {
      const params = JSON.stringify({ name: "echo", arguments: { text: "packed and run" } });
      const result = await npx([BIN, "fetch", url, "--rpc", "tools/call", "--params", params], credentials);
      if (result.code !== 0) throw fail("fetch --rpc", result);
      const lines = result.stdout.trim().split("\n");
      const response = JSON.parse(lines.at(-1));
      if (lines.length !== 1 || response.result?.content?.[0]?.text !== "packed and run") {
        throw Object.assign(new Error("unexpected fetch --rpc output"), { stdout: redact(result.stdout).slice(0, 2000) });
      }
    });

    await check("stdio bridge from the installed tarball: MCP SDK client → npx -y -p … stdio <url> → initialize, tools/list, tools/call", async () => {
      let stderr = "";
      const transport = new StdioClientTransport({
        command: "npx",
        args: ["-y", "-p", BIN, "-p", "@modelcontextprotocol/sdk", BIN, "stdio", url],
        cwd: project,
        env: env(credentials),
        stderr: "pipe",
      });
      transport.stderr?.on("data", (chunk) => (stderr += chunk));
      const client = new Client({ name: "package-check", version: "1.0.0" });
      try {
        await client.connect(transport);
        const tools = await client.listTools();
        if (!tools.tools.some((tool) => tool.name === "echo")) throw new Error(`tools/list: ${tools.tools.map((tool) => tool.name).join(", ")}`);
        const result = await client.callTool({ name: "echo", arguments: { text: "over stdio" } });
        if (result.content?.[0]?.text !== "over stdio") throw new Error(`tools/call: ${JSON.stringify(result.content)}`);
        return `server ${client.getServerVersion()?.name}`;
      } catch (error) {
        throw Object.assign(new Error(redact(error.message)), { stderr: redact(stderr).slice(0, 2000) });
      } finally {
        await client.close();
      }
    });

    // npm does not install an optional peer: a project with only the tarball has no SDK.
    const bare = path.join(tmp, "bare");
    await check("without the MCP SDK (tarball alone): token works, stdio exits 2 naming @modelcontextprotocol/sdk", async () => {
      if (!tarball) throw new Error("no tarball (npm pack failed)");
      await mkdir(bare, { recursive: true });
      await writeFile(path.join(bare, "package.json"), JSON.stringify({ name: "bare", version: "1.0.0", private: true }));
      await sh("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], { cwd: bare });
      const sdk = await stat(path.join(bare, "node_modules", "@modelcontextprotocol")).then(
        () => true,
        () => false,
      );
      if (sdk)
        throw new Error(
          `npm installed @modelcontextprotocol/* next to the tarball: ${await readdir(path.join(bare, "node_modules", "@modelcontextprotocol"))}`,
        );
      const token = await exec("npx", [BIN, "token", "--server", url], { cwd: bare, env: env(credentials) });
      if (token.code !== 0 || !JWT.test(token.stdout.trim())) throw fail("token without the SDK", token);
      const result = await exec("npx", [BIN, "stdio", url], { cwd: bare, env: env(credentials) });
      if (result.code !== 2 || !result.stderr.includes("@modelcontextprotocol/sdk")) throw fail("stdio without the SDK", result);
      if (result.stdout !== "") throw new Error("stdio wrote to stdout without the SDK");
      return result.stderr.trim().split("\n")[0].slice(0, 100);
    });
  } finally {
    await stack.close();
  }
}
