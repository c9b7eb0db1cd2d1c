// The error codes: every code src/ can throw is in the exported union, and README "Errors" says
// what each one means and how to fix it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ClientCredentialsError } from "../src/errors.js";

const root = new URL("..", import.meta.url).pathname;
const errorsSource = readFileSync(join(root, "src/errors.ts"), "utf8");

function union(name: string): string[] {
  const body = errorsSource.slice(errorsSource.indexOf(`export type ${name} =`));
  return [...body.slice(0, body.indexOf(";")).matchAll(/"([a-z_]+)"/g)].map((m) => m[1]!);
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "msw" ? [] : sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** The text of every call to `name(…)` in `text`, parentheses balanced. */
function calls(text: string, name: string): string[] {
  const found: string[] = [];
  for (let start = text.indexOf(`${name}(`); start !== -1; start = text.indexOf(`${name}(`, start + 1)) {
    let depth = 0;
    let end = start + name.length;
    for (; end < text.length; end++) {
      if (text[end] === "(") depth++;
      else if (text[end] === ")" && --depth === 0) break;
    }
    if (!text.slice(0, start).endsWith("function ")) found.push(text.slice(start, end + 1));
  }
  return found;
}

/** Snake-case literals where src/ sets an error code: `code: "…"` (or a ternary), `const invalid = "…"`, documentError(…), KeyError(…), AssertionError(…). */
function thrownCodes(): Map<string, string> {
  const found = new Map<string, string>();
  const argument = /,\s*"([a-z_]+)"\s*(?=[,)])/g;
  for (const file of sources(join(root, "src"))) {
    // The CLI's discover verdicts have codes of their own (`unreachable`), never thrown.
    if (file.includes(join("src", "cli"))) continue;
    const text = readFileSync(file, "utf8");
    const codes = [
      // `code: "x"`, `code = "x"`, `const code = cond ? "x" : "y"`, `const invalid = "x"`
      ...[...text.matchAll(/\b(?:code|invalid)\s*(?::|=(?!=))\s*(?:[^,;\n]*?\?\s*)?"([a-z_]+)"(?:\s*:\s*"([a-z_]+)")?/g)].flatMap((m) => m.slice(1)),
      ...[...calls(text, "documentError"), ...calls(text, "new KeyError"), ...calls(text, "new AssertionError")].flatMap((call) =>
        [...call.matchAll(argument)].map((m) => m[1]),
      ),
    ];
    for (const code of codes) if (code) found.set(code, file.slice(root.length));
  }
  return found;
}

describe("error codes", () => {
  const own = union("ClientCredentialsErrorCode");
  const oauth = union("OAuthErrorCode");

  it("every code src/ sets is in ClientCredentialsErrorCode", () => {
    const codes = thrownCodes();
    expect(codes.size).toBeGreaterThan(20); // the scan finds them at all
    const unknown = [...codes].filter(([code]) => !own.includes(code) && !oauth.includes(code) && code !== "invalid_type");
    expect(unknown).toEqual([]);
    // And every code of the union is set somewhere: none is documented but dead.
    expect(own.filter((code) => !codes.has(code))).toEqual([]);
  });

  it("README 'Errors' lists every code, with what it means and the fix", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Errors"), readme.indexOf("### Faults"));
    const rows = section.split("\n").filter((line) => line.startsWith("| `"));
    for (const code of [...own, ...oauth]) {
      const row = rows.find((line) => line.split("|")[1]!.includes(`\`${code}\``));
      expect(row, `README Errors has no row for ${code}`).toBeDefined();
      const [, , phase, means, fix] = row!.split("|").map((cell) => cell.trim());
      expect(
        [phase, means, fix].every((cell) => cell && cell.length > 2),
        `row for ${code} is incomplete`,
      ).toBe(true);
    }
  });

  it("serialises its fields and retryAfter, never its cause", () => {
    const error = new ClientCredentialsError("token", "slow down", { status: 429, code: "retry_later", retryAfter: 30, cause: new Error("secret") });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: "ClientCredentialsError",
      message: "[token] slow down",
      phase: "token",
      status: 429,
      code: "retry_later",
      retryAfter: 30,
    });
  });
});
