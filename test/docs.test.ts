// The documentation only shows code that CI runs. Every js/ts/mjs block in README.md, docs/*.md
// and CONTRIBUTING.md must be a verbatim excerpt (trimmed) of an example file, and that file must
// be run by a suite of .ci/run: its runner names it, and .ci/run runs the runner's npm script.
// Edit a block without its file (or drop a file from its runner) and this fails.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

/** Where quoted code may live, and which runner (a file, or a folder of them) runs each file there. */
const RUNNERS: Record<string, { runner: string; script: string }> = {
  "examples/first-call.mjs": { runner: "test/e2e/examples.test.ts", script: "test:e2e" },
  "examples/mcp-sdk-client.mjs": { runner: "test/e2e/examples.test.ts", script: "test:e2e" },
  "examples/mcp-sdk-v2-auth-provider.mjs": { runner: "test/e2e/examples.test.ts", script: "test:e2e" },
  "examples/apply-middlewares.mjs": { runner: "test/e2e/examples.test.ts", script: "test:e2e" },
  "examples/ky.mjs": { runner: "test/e2e/examples.test.ts", script: "test:e2e" },
  "examples/static-configuration.mjs": { runner: "test/e2e/examples.test.ts", script: "test:e2e" },
  "examples/redis-store.mjs": { runner: "test/e2e/examples.test.ts", script: "test:e2e" },
  "examples/custom-store.mjs": { runner: "test/e2e/examples.test.ts", script: "test:e2e" },
  "examples/msw-kit.test.mjs": { runner: "test/e2e/examples.test.ts", script: "test:e2e" },
  "examples/workload-github-actions.mjs": { runner: "test/e2e/workload-platforms.test.ts", script: "test:e2e" },
  "examples/workload-kubernetes.mjs": { runner: "test/e2e/workload-platforms.test.ts", script: "test:e2e" },
  "examples/workload-entra.mjs": { runner: "test/e2e/workload-platforms.test.ts", script: "test:e2e" },
  "examples/mcp-sdk-v2-client.mjs": { runner: "test/e2e/mcp-sdk-v2.test.ts", script: "test:e2e" },
  "examples/dpop.mjs": { runner: "test/e2e/dpop.test.ts", script: "test:e2e" },
  "examples/conformance-client.mjs": { runner: "test/e2e/conformance/run.mjs", script: "test:conformance" },
  "examples/ai-sdk.mjs": { runner: "test/frameworks", script: "test:frameworks" },
  "examples/mastra.mjs": { runner: "test/frameworks", script: "test:frameworks" },
  "examples/openai-agents.mjs": { runner: "test/frameworks", script: "test:frameworks" },
  "examples/langchain.mjs": { runner: "test/frameworks", script: "test:frameworks" },
  "examples/cloudflare-agent.js": { runner: "test/cloudflare-agents", script: "test:cloudflare-agents" },
  // The better-auth server itself: docs/authorization-servers.md quotes its configuration.
  "test/better-auth/authorization-server.mjs": { runner: "test/better-auth", script: "test:better-auth" },
  ...Object.fromEntries(
    ["cloudflare-worker.js", "cloudflare-durable-object.js", "deno.js", "bun.js", "vercel-edge.js", "browser-worker.js"].map((file) => [
      `test/runtimes/examples/${file}`,
      { runner: "test/runtimes/examples.mjs", script: "test:runtimes" },
    ]),
  ),
};

const CODE = new Set(["js", "mjs", "cjs", "jsx", "ts", "mts", "tsx", "javascript", "typescript"]);
const SOURCE = /\.(m|c)?[jt]sx?$/;

interface Block {
  doc: string;
  line: number;
  lang: string;
  code: string;
}

/** Fenced blocks in a Markdown file: language, first line number, content trimmed. */
function codeBlocks(doc: string, text: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^(`{3,})([\w-]*)[^\n]*\n([\s\S]*?)^\1[ \t]*$/gm;
  for (const match of text.matchAll(fence)) {
    const line = text.slice(0, match.index).split("\n").length;
    blocks.push({ doc, line, lang: (match[2] ?? "").toLowerCase(), code: (match[3] ?? "").trim() });
  }
  return blocks;
}

function walk(dir: string): string[] {
  if (!existsSync(path.join(ROOT, dir))) return [];
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    if (name === "node_modules" || name.startsWith(".")) return [];
    const file = `${dir}/${name}`;
    return statSync(path.join(ROOT, file)).isDirectory() ? walk(file) : [file];
  });
}

/** Files a block may be quoted from: runnable sources in examples/ and test/runtimes/examples/, and the better-auth server. */
const sources = [...walk("examples"), ...walk("test/runtimes/examples"), "test/better-auth/authorization-server.mjs"].filter((file) => SOURCE.test(file));
const contents = new Map(sources.map((file) => [file, read(file)]));

/** The files that contain the block verbatim. */
function locate(code: string): string[] {
  return sources.filter((file) => contents.get(file)?.includes(code));
}

const docs = ["README.md", "CONTRIBUTING.md", ...walk("docs").filter((file) => file.endsWith(".md"))];
const blocks = docs.flatMap((doc) => codeBlocks(doc, read(doc))).filter((block) => CODE.has(block.lang));
const where = (block: Block) => `${block.doc}:${block.line} (${block.code.slice(0, 80).split("\n")[0]})`;

describe("code in the documentation is code CI runs", () => {
  it("the docs have code blocks to check", () => {
    expect(blocks.length).toBeGreaterThan(10);
    expect(docs).toContain("docs/runtimes.md");
  });

  it.each(docs)("every js/ts block of %s is verbatim in an example file", (doc) => {
    const missing = blocks.filter((block) => block.doc === doc && locate(block.code).length === 0).map(where);
    expect(missing, "blocks found in no file under examples/ or test/runtimes/examples/: edit the example, run it, then paste").toEqual([]);
  });

  it("every example file a block comes from is run by a runner that names it", () => {
    const quoted = new Set(blocks.flatMap((block) => locate(block.code)));
    const problems: string[] = [];
    for (const file of quoted) {
      const entry = RUNNERS[file];
      if (!entry) {
        problems.push(`${file}: no runner listed in test/docs.test.ts`);
        continue;
      }
      const runnerFiles = statSync(path.join(ROOT, entry.runner), { throwIfNoEntry: false })?.isDirectory()
        ? walk(entry.runner).filter((f) => SOURCE.test(f))
        : [entry.runner];
      const name = path.basename(file);
      if (!runnerFiles.some((f) => existsSync(path.join(ROOT, f)) && read(f).includes(name)))
        problems.push(`${file}: ${entry.runner} does not mention ${name}`);
    }
    expect(problems).toEqual([]);
  });

  it("each runner belongs to an npm script that .ci/run runs", () => {
    const scripts: Record<string, string> = JSON.parse(read("package.json")).scripts;
    const ci = read(".ci/run");
    const problems: string[] = [];
    const pairs = new Map(Object.values(RUNNERS).map((entry) => [`${entry.runner} ${entry.script}`, entry]));
    for (const { runner, script } of pairs.values()) {
      const command = scripts[script] ?? "";
      const folder = runner.split("/").slice(0, 2).join("/"); // test/e2e, test/frameworks …
      if (!command.includes(folder)) problems.push(`npm script ${script} does not run ${folder} (${runner})`);
      if (!ci.includes(`npm run ${script}`)) problems.push(`.ci/run does not run npm run ${script}`);
    }
    expect(problems).toEqual([]);
  });

  it("an edited block is caught: one changed character and no file contains it", () => {
    const block = blocks.find((b) => b.doc === "README.md" && b.code.length > 40);
    expect(block && locate(block.code).length).toBeGreaterThan(0);
    const edited = block ? block.code.replace(/withClientCredentials/, "withClientCredential") : "";
    expect(locate(edited)).toEqual([]);
  });

  it("the README's CLI recipes (a workflow, a desktop config) are the files test/e2e/cli/recipes.test.ts runs", () => {
    const readme = read("README.md");
    const runner = read("test/e2e/cli/recipes.test.ts");
    for (const file of ["examples/cli/github-actions.yml", "examples/cli/claude-desktop.json"]) {
      const quoted = codeBlocks("README.md", readme).some((block) => block.code === read(file).trim());
      expect(quoted, `${file} is not quoted verbatim in README.md`).toBe(true);
      expect(runner.includes(path.basename(file)), `recipes.test.ts does not run ${file}`).toBe(true);
    }
  });

  it("the README's first section has the two commands", () => {
    const first = read("README.md").split(/^## /m)[0];
    expect(first).toContain("npm ci && npm run demo");
    expect(first).toContain("npm ci && npm test");
  });

  it("relative links in the docs point at files (and headings) that exist", () => {
    // GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-");
    const anchors = (file: string) => [...read(file).matchAll(/^#{1,6} +(.+)$/gm)].map((m) => slug(m[1] ?? ""));
    const broken: string[] = [];
    for (const doc of docs) {
      for (const match of read(doc).matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = match[1] ?? "";
        const [target = "", anchor] = link.split("#");
        if (/^[a-z]+:/i.test(target)) continue;
        const file = target ? path.join(path.dirname(doc), target) : doc;
        if (!existsSync(path.join(ROOT, file))) broken.push(`${doc}: ${link}`);
        else if (anchor && file.endsWith(".md") && !anchors(file).includes(anchor)) broken.push(`${doc}: ${link} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
