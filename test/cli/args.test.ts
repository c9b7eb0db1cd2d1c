import { describe, expect, it } from "vitest";
import { CREDENTIAL_OPTIONS, millis, parse, UsageError, urlArgument } from "../../src/cli/args.js";

const OPTIONS = {
  ...CREDENTIAL_OPTIONS,
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  server: { type: "string" },
  data: { type: "string", short: "d" },
  header: { type: "string", short: "H", multiple: true },
} as const;

function usage(thunk: () => unknown): UsageError {
  try {
    thunk();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error("expected a UsageError");
}

describe("parse", () => {
  it("returns values and positionals within the limit", () => {
    const { values, positionals } = parse("fetch", ["https://x.example/mcp", "--json", "-H", "A: b", "-H", "C: d"], OPTIONS, 1);
    expect(values).toMatchObject({ json: true, header: ["A: b", "C: d"] });
    expect(positionals).toEqual(["https://x.example/mcp"]);
  });

  it("names the closest flag for a misspelt one", () => {
    const error = usage(() => parse("token", ["--sever", "https://x.example"], OPTIONS));
    expect(error.message).toBe("token: unknown flag --sever; did you mean --server? (see mcp-client-credentials token --help)");
  });

  it("suggests nothing when no flag is within two edits", () => {
    const error = usage(() => parse("token", ["--zzzzzzzz"], OPTIONS));
    expect(error.message).toBe("token: unknown flag --zzzzzzzz (see mcp-client-credentials token --help)");
  });

  it("strips the value of an unknown --flag=value and never echoes it", () => {
    const error = usage(() => parse("token", ["--client-secrte=hunter2-secret-value"], OPTIONS));
    expect(error.message).toContain("unknown flag --client-secrte; did you mean --client-secret?");
    expect(error.message.includes("hunter2-secret-value")).toBe(false);
  });

  it("names an unknown short flag", () => {
    expect(usage(() => parse("fetch", ["-q"], OPTIONS)).message).toContain("unknown flag -q");
  });

  it("gives an example for a long flag without its value", () => {
    expect(usage(() => parse("token", ["--server"], OPTIONS)).message).toBe(
      "token: --server needs a value, e.g. --server https://… (see mcp-client-credentials token --help)",
    );
    expect(usage(() => parse("token", ["--client-secret"], OPTIONS)).message).toContain("--client-secret needs a value, e.g. --client-secret <value>");
  });

  it("gives an example for a short flag without its value", () => {
    expect(usage(() => parse("fetch", ["-d"], OPTIONS)).message).toBe("fetch: -d needs a value, e.g. -d @path (see mcp-client-credentials fetch --help)");
    expect(usage(() => parse("fetch", ["-H"], OPTIONS)).message).toContain("-H needs a value, e.g. -H 'Name: value'");
  });

  it("refuses a value for a boolean without quoting the value", () => {
    const error = usage(() => parse("discover", ["--json=secretvalue"], OPTIONS));
    expect(error.message).toBe("discover: --json takes no value (see mcp-client-credentials discover --help)");
    expect(error.message.includes("secretvalue")).toBe(false);
  });

  it("explains a value that starts with a dash instead of saying the flag takes none", () => {
    const error = usage(() => parse("token", ["--client-secret", "-starts-with-dash"], OPTIONS));
    expect(error.message.includes("-starts-with-dash")).toBe(false);
    expect(error.message).not.toContain("takes no value");
    expect(error.message).toContain("--client-secret=");
  });

  it("never echoes a dash-leading secret given to a string flag", () => {
    const error = usage(() => parse("token", ["--client-secret", "-dash-secret-value"], OPTIONS));
    expect(error.message.includes("dash-secret-value")).toBe(false);
  });

  it("refuses positionals beyond the limit, naming the first extra one by its place", () => {
    expect(usage(() => parse("token", ["https://x.example"], OPTIONS)).message).toBe(
      'token: unexpected argument "https://x.example/"; it takes no arguments, only flags (see mcp-client-credentials token --help)',
    );
    expect(usage(() => parse("fetch", ["https://a.example", "extra"], OPTIONS, 1)).message).toBe(
      "fetch: unexpected argument number 2 (not shown: it may be part of a secret; quote values with spaces) (see mcp-client-credentials fetch --help)",
    );
  });

  it("never quotes a stray word: it may be the second half of an unquoted secret", () => {
    // --client-secret first-half second-half: the shell split the secret in two.
    const error = usage(() => parse("token", ["--client-secret", "first-half", "second-half-of-secret"], OPTIONS));
    expect(error.message).toBe(
      "token: unexpected argument number 1 (not shown: it may be part of a secret; quote values with spaces); it takes no arguments, only flags (see mcp-client-credentials token --help)",
    );
    expect(error.message.includes("second-half-of-secret")).toBe(false);
    expect(error.message.includes("first-half")).toBe(false);
  });

  it("quotes a stray URL, which is no secret", () => {
    expect(usage(() => parse("fetch", ["https://a.example/mcp", "https://b.example/mcp"], OPTIONS, 1)).message).toBe(
      'fetch: unexpected argument "https://b.example/mcp" (see mcp-client-credentials fetch --help)',
    );
  });

  it("lets --help through whatever the positionals", () => {
    expect(parse("token", ["a", "b", "--help"], OPTIONS).values.help).toBe(true);
  });
});

describe("millis", () => {
  it("reads a positive whole number, or nothing when absent", () => {
    expect(millis({ timeout: "2500" }, "timeout")).toBe(2500);
    expect(millis({}, "timeout")).toBeUndefined();
  });

  it.each(["0", "-5", "1.5", "ten", ""])("refuses %j naming the flag", (value) => {
    const error = usage(() => millis({ timeout: value }, "timeout"));
    expect(error.message).toBe(`--timeout takes milliseconds, a whole number above 0 (got ${JSON.stringify(value)})`);
  });
});

describe("urlArgument", () => {
  it("accepts http and https URLs", () => {
    expect(urlArgument("discover", "https://mcp.example.com/mcp").href).toBe("https://mcp.example.com/mcp");
    expect(urlArgument("discover", "http://127.0.0.1:3000/mcp").port).toBe("3000");
  });

  it("asks for the URL when it is missing", () => {
    expect(usage(() => urlArgument("discover", undefined)).message).toBe(
      "discover: needs the MCP server URL, e.g. mcp-client-credentials discover https://mcp.example.com/mcp",
    );
    expect(usage(() => urlArgument("proxy", "", "the remote URL")).message).toContain("proxy: needs the remote URL");
  });

  it("asks for a scheme when there is none", () => {
    expect(usage(() => urlArgument("fetch", "mcp.example.com/mcp")).message).toBe(
      "fetch: the MCP server URL is not an absolute URL; write it with its scheme, e.g. https://mcp.example.com/mcp",
    );
  });

  it("refuses another scheme", () => {
    expect(usage(() => urlArgument("fetch", "ftp://mcp.example.com/mcp")).message).toBe("fetch: the MCP server URL must be an http(s) URL");
  });

  it("refuses a URL holding a user and password, without quoting the password", () => {
    const error = usage(() => urlArgument("fetch", "https://agent:hunter2-url-password@mcp.example.com/mcp"));
    expect(error.message).toBe("fetch: the MCP server URL must not hold a user or password; give credentials with MCP_CLIENT_ID and MCP_CLIENT_SECRET");
    expect(error.message.includes("hunter2-url-password")).toBe(false);
    expect(usage(() => urlArgument("proxy", "https://agent@mcp.example.com/mcp", "the remote URL")).message).toContain(
      "proxy: the remote URL must not hold a user or password",
    );
  });
});
