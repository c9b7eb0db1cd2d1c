// The README's two CLI recipes, as written: the GitHub Actions workflow (examples/cli/github-actions.yml)
// runs step by step with bash as Actions runs it, against the GitHub Actions OIDC stand-in and
// oidc-provider's jwt-bearer grant; the desktop config (examples/cli/claude-desktop.json) is
// spawned by the MCP SDK's stdio client. `npx` is a shim first on PATH that accepts only the
// command line each recipe uses and runs the built CLI (dist/cli/index.js) in its place.
// Tokens, platform JWTs and secrets are only compared as booleans.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { type GitHubActionsOidc, start as startActions } from "../servers/github-actions.mjs";
import { type Stack, start as startStack } from "../servers/stack.mjs";
import { acceptsToken } from "./mcp.js";
import { CLI } from "./process.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const WORKFLOW = path.join(root, "examples/cli/github-actions.yml");
const DESKTOP = path.join(root, "examples/cli/claude-desktop.json");
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const JWT = /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/;
/** What the desktop config must hand npx: the SDK next to the package, then the bin's stdio command. */
const STDIO_ARGS = ["-y", "-p", "mcp-client-credentials", "-p", "@modelcontextprotocol/sdk", "mcp-client-credentials", "stdio"];

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
}
interface Workflow {
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, { permissions?: Record<string, string>; env?: Record<string, string>; steps: Step[] }>;
}

let actions: GitHubActionsOidc;
let stack: Stack;
let dir: string;

beforeAll(async () => {
  // Under CI nothing skips: the workflow's second step needs jq.
  try {
    execFileSync("jq", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("jq is not installed (apt-get install -y jq): the workflow recipe pipes the tool result through it");
  }
  // A rebuild by `npm run build` empties dist/ for a moment.
  for (let i = 0; i < 100 && !existsSync(CLI); i++) await new Promise((resolve) => setTimeout(resolve, 200));
  [actions, dir] = await Promise.all([startActions(), mkdtemp(path.join(tmpdir(), "mcc-recipes-"))]);
  stack = await startStack({ jwtBearer: { trust: [{ issuer: actions.issuer.issuer, subject: actions.subject }] } });
});

afterAll(async () => {
  await stack?.close();
  await Promise.allSettled([actions?.close(), dir && rm(dir, { recursive: true, force: true })]);
});

/**
 * A directory holding an `npx` that runs the built CLI for exactly `npxArgs` (what npx itself
 * consumes: its options and the bin name), then `cliArgs`, then `exact` more arguments (or any
 * number), logs each call, and fails loudly otherwise.
 */
async function npxShim(name: string, npxArgs: string[], cliArgs: string[] = [], exact?: number): Promise<{ bin: string; calls: () => Promise<string[]> }> {
  const accepted = [...npxArgs, ...cliArgs];
  const bin = path.join(dir, name);
  const log = path.join(dir, `${name}.log`);
  await mkdir(bin, { recursive: true });
  const quote = (text: string) => `'${text.replaceAll("'", `'"'"'`)}'`;
  const tests = accepted.map((arg, i) => `[ "$${i + 1}" = ${quote(arg)} ]`);
  const count = exact === undefined ? `[ "$#" -ge ${accepted.length} ]` : `[ "$#" -eq ${accepted.length + exact} ]`;
  await writeFile(
    path.join(bin, "npx"),
    [
      "#!/bin/sh",
      `printf '%s\\n' "$*" >> ${quote(log)}`,
      `if ${[count, ...tests].join(" && ")}; then`,
      `  shift ${npxArgs.length}`,
      `  exec ${quote(process.execPath)} ${quote(CLI)} "$@"`,
      "fi",
      `echo "npx shim (${name}): not the recipe's command line: npx $*" >&2`,
      "exit 97",
      "",
    ].join("\n"),
  );
  await chmod(path.join(bin, "npx"), 0o755);
  const calls = async () => (existsSync(log) ? (await readFile(log, "utf8")).trimEnd().split("\n") : []);
  return { bin, calls };
}

/** Runs one `run:` script as Actions does on Linux: `bash --noprofile --norc -eo pipefail {0}`. */
function runStep(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const file = path.join(cwd, "..", `step-${Math.random().toString(36).slice(2)}.sh`);
    writeFile(file, script).then(() => {
      const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", file], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => child.kill("SIGKILL"), 25_000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    }, reject);
  });
}

describe("examples/cli/github-actions.yml", () => {
  it("lets the job ask for its OIDC token (permissions.id-token: write)", async () => {
    const workflow = parseYaml(await readFile(WORKFLOW, "utf8")) as Workflow;
    for (const job of Object.values(workflow.jobs)) expect(job.permissions?.["id-token"] ?? workflow.permissions?.["id-token"]).toBe("write");
  });

  it("runs as written: discover, a tools/call through jq, a token masked before it lands in GITHUB_ENV", async () => {
    const workflow = parseYaml(await readFile(WORKFLOW, "utf8")) as Workflow;
    const jobs = Object.entries(workflow.jobs);
    expect(jobs).toHaveLength(1);
    const [[, job]] = jobs as [[string, Workflow["jobs"][string]]];
    const shim = await npxShim("workflow-bin", ["-y", "mcp-client-credentials"]);
    const workspace = path.join(dir, "workspace");
    await mkdir(workspace, { recursive: true });
    const githubEnv = path.join(dir, "github-env");
    await writeFile(githubEnv, "");
    // Only the values that name a deployment change: the server URL, and a client id if the recipe has one.
    const deployment: Record<string, string> = { MCP_SERVER: stack.mcp.url, MCP_CLIENT_ID: stack.credentials.workloadIdentity!.clientId };
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(MCP_|ACTIONS_|GITHUB_|RUNNER_|VITEST|npm_)/i.test(name)));
    const seenGrants = stack.as.events.length;
    const seenActions = actions.requests.length;

    const steps = job.steps.filter((step) => step.run !== undefined);
    expect(steps.map((step) => step.name)).toEqual(["Check that the server accepts this job", "Call a tool", "Get a token for another tool"]);
    const results: Array<{ name?: string; code: number | null; stdout: string; stderr: string }> = [];
    for (const step of steps) {
      expect(step.shell ?? "bash").toBe("bash");
      const declared = { ...workflow.env, ...job.env, ...step.env };
      const env: Record<string, string> = {
        ...inherited,
        PATH: `${shim.bin}${path.delimiter}${process.env.PATH ?? ""}`,
        CI: "true",
        GITHUB_ACTIONS: "true",
        GITHUB_WORKSPACE: workspace,
        GITHUB_ENV: githubEnv,
        RUNNER_TEMP: dir,
        ACTIONS_ID_TOKEN_REQUEST_URL: actions.url,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: actions.requestToken,
      };
      for (const [name, value] of Object.entries(declared)) {
        const replaced = deployment[name] ?? value;
        expect(replaced, `env ${name}: an expression the test cannot stand in for`).not.toMatch(/\$\{\{/);
        env[name] = replaced;
      }
      results.push({ name: step.name, ...(await runStep(step.run!, workspace, env)) });
    }

    const [discover, tool, token] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
    const envFile = await readFile(githubEnv, "utf8");
    const value = /^MCP_TOKEN=(.*)\n$/.exec(envFile)?.[1] ?? "";
    // Exit codes and stderr first; a secret never reaches the assertion messages.
    const secrets = [value, actions.requestToken, ...actions.issued()].filter(Boolean);
    const leaked = (text: string) => secrets.some((secret) => text.includes(secret));
    expect(results.map((result) => [result.name, result.code, leaked(result.stderr) ? "stderr holds a secret" : result.stderr.slice(0, 600)])).toEqual(
      results.map((result) => [result.name, 0, leaked(result.stderr) ? "stderr holds a secret" : result.stderr.slice(0, 600)]),
    );
    expect(await shim.calls()).toEqual([
      `-y mcp-client-credentials discover ${stack.mcp.url} --github-oidc`,
      `-y mcp-client-credentials fetch ${stack.mcp.url} --github-oidc --rpc tools/call --params {"name":"echo","arguments":{"text":"hello from CI"}}`,
      `-y mcp-client-credentials token --server ${stack.mcp.url} --github-oidc`,
    ]);
    expect(leaked(discover.stdout)).toBe(false);
    expect(discover.stdout).toMatch(/jwt-bearer/);
    expect(tool.stdout).toBe("hello from CI\n");
    expect(JSON.parse(await readFile(path.join(workspace, "result.json"), "utf8")).result.content[0].text).toBe("hello from CI");

    expect(JWT.test(value)).toBe(true);
    expect(envFile === `MCP_TOKEN=${value}\n`).toBe(true);
    // The runner masks from the ::add-mask:: line on: nothing before it may show the token.
    const lines = token.stdout.split("\n");
    expect(lines[0] === `::add-mask::${value}`).toBe(true);
    expect(token.stdout.indexOf(value) === "::add-mask::".length && token.stdout.lastIndexOf(value) === "::add-mask::".length).toBe(true);
    expect([discover, tool].some((result) => result.stdout.includes(value))).toBe(false);
    expect(await acceptsToken(stack.mcp.url, value)).toBe(true);

    // Each command got the job's token for the authorization server and used the jwt-bearer grant.
    const grants = stack.as.events.slice(seenGrants).filter((event) => event.type === "grant.success" || event.type === "grant.error");
    expect(grants.map((event) => [event.type, event.grantType, event.assertion?.iss, event.assertion?.verified])).toEqual(
      Array(2).fill(["grant.success", JWT_BEARER, actions.issuer.issuer, true]),
    );
    expect(actions.requests.slice(seenActions).every((request) => request.authorized && request.audience === stack.as.issuer)).toBe(true);
  });
});

describe("examples/cli/claude-desktop.json", () => {
  it("its command line, spawned by the MCP SDK's stdio client, bridges to the server: initialize, tools/list, tools/call", async () => {
    const config = JSON.parse(await readFile(DESKTOP, "utf8")) as {
      mcpServers: Record<string, { command: string; args: string[]; env: Record<string, string> }>;
    };
    const server = config.mcpServers.example!;
    expect(server.command).toBe("npx");
    expect(server.args.slice(0, -1)).toEqual(STDIO_ARGS);
    expect(new URL(server.args.at(-1)!).protocol).toBe("https:");
    expect(Object.keys(server.env).sort()).toEqual(["MCP_CLIENT_ID", "MCP_CLIENT_SECRET"]);

    const shim = await npxShim("desktop-bin", STDIO_ARGS.slice(0, -1), STDIO_ARGS.slice(-1), 1);
    const { clientId, clientSecret } = stack.credentials.clientSecret;
    const real: Record<string, string> = { MCP_CLIENT_ID: clientId, MCP_CLIENT_SECRET: clientSecret };
    let stderr = "";
    const transport = new StdioClientTransport({
      command: server.command,
      args: [...server.args.slice(0, -1), stack.mcp.url],
      env: { PATH: `${shim.bin}${path.delimiter}${process.env.PATH ?? ""}`, ...Object.fromEntries(Object.keys(server.env).map((name) => [name, real[name]!])) },
      stderr: "pipe",
    });
    transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const client = new Client({ name: "desktop-recipe", version: "1.0.0" });
    const seen = stack.mcp.requests.length;
    try {
      await client.connect(transport);
      expect(client.getServerVersion()?.name).toBeTruthy();
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(["echo", "add", "whoami"]));
      const result = await client.callTool({ name: "echo", arguments: { text: "from the desktop" } });
      expect(result.content).toEqual([{ type: "text", text: "from the desktop" }]);
    } catch (error) {
      // The bridge's stderr says why; it never holds the secret, and is cut if it did.
      throw new Error(`${(error as Error).message}; stderr: ${stderr.includes(clientSecret) ? "[holds the secret]" : stderr.slice(0, 1500)}`);
    } finally {
      await client.close();
    }
    expect(await shim.calls()).toEqual([[...STDIO_ARGS, stack.mcp.url].join(" ")]);
    expect(stderr.includes(clientSecret)).toBe(false);
    const requests = stack.mcp.requests.slice(seen).filter((request) => request.path === "/mcp");
    expect(requests.some((request) => request.rpc === "tools/call" && request.authorized && request.status === 200)).toBe(true);
  });
});
