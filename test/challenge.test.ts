import { describe, expect, it } from "vitest";
import { bearerChallenge, parseWwwAuthenticate } from "../src/discovery/challenge.js";

const parse = (header: string) => bearerChallenge(parseWwwAuthenticate(header));

describe("parseWwwAuthenticate (RFC 9110 §11.6.1)", () => {
  it("parses a single Bearer challenge with quoted parameters", () => {
    expect(parseWwwAuthenticate('Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="a b"')).toEqual([
      {
        scheme: "bearer",
        params: { resource_metadata: ["https://mcp.example.com/.well-known/oauth-protected-resource/mcp"], scope: ["a b"] },
      },
    ]);
  });

  it("splits several challenges in one header, with Bearer not first", () => {
    const challenges = parseWwwAuthenticate('Basic realm="api", Bearer realm="mcp", error="invalid_token", Negotiate');
    expect(challenges.map((c) => c.scheme)).toEqual(["basic", "bearer", "negotiate"]);
    expect(challenges[0]!.params).toEqual({ realm: ["api"] });
    expect(challenges[1]!.params).toEqual({ realm: ["mcp"], error: ["invalid_token"] });
  });

  it("reads token68 credentials and keeps them apart from parameters", () => {
    const challenges = parseWwwAuthenticate("Negotiate abc+/def==, Bearer scope=read");
    expect(challenges[0]).toEqual({ scheme: "negotiate", token68: "abc+/def==", params: {} });
    expect(challenges[1]).toEqual({ scheme: "bearer", params: { scope: ["read"] } });
  });

  it("unescapes quoted-pairs inside quoted strings, including commas and quotes", () => {
    const [challenge] = parseWwwAuthenticate('Bearer error_description="bad \\"token\\", try again\\\\", scope="x"');
    expect(challenge!.params.error_description).toEqual(['bad "token", try again\\']);
    expect(challenge!.params.scope).toEqual(["x"]);
  });

  it("accepts optional whitespace around = and tabs between parameters", () => {
    const result = parse('Bearer resource_metadata = "https://a.example/m" ,\tscope= "s1"  , error ="insufficient_scope"');
    expect(result).toEqual({ resourceMetadata: ["https://a.example/m"], scope: "s1", error: "insufficient_scope" });
  });

  it("treats scheme and parameter names case-insensitively", () => {
    const result = parse('BEARER Resource_Metadata="https://a.example/m", SCOPE="x"');
    expect(result).toEqual({ resourceMetadata: ["https://a.example/m"], scope: "x" });
  });

  it("keeps every value of a repeated resource_metadata, in order, without duplicates", () => {
    const result = parse(
      'Bearer resource_metadata="https://a.example/404", resource_metadata="https://a.example/ok", resource_metadata="https://a.example/ok"',
    );
    expect(result!.resourceMetadata).toEqual(["https://a.example/404", "https://a.example/ok"]);
  });

  it("collects resource_metadata across several Bearer challenges", () => {
    const result = parse('Bearer resource_metadata="https://one.example/m", Basic realm="x", Bearer resource_metadata="https://two.example/m", scope="s"');
    expect(result!.resourceMetadata).toEqual(["https://one.example/m", "https://two.example/m"]);
    expect(result!.scope).toBe("s");
  });

  it("accepts a bare (unquoted) URL value", () => {
    expect(parse("Bearer resource_metadata=https://a.example/.well-known/oauth-protected-resource, scope=read")).toEqual({
      resourceMetadata: ["https://a.example/.well-known/oauth-protected-resource"],
      scope: "read",
    });
  });

  it("answers undefined without a Bearer challenge, and for empty input", () => {
    expect(parse('Basic realm="x"')).toBeUndefined();
    expect(bearerChallenge(parseWwwAuthenticate(null))).toBeUndefined();
    expect(parseWwwAuthenticate("")).toEqual([]);
  });

  it("parses a bare Bearer scheme with no parameters", () => {
    expect(parse("Bearer")).toEqual({ resourceMetadata: [] });
    expect(parse("Bearer, Basic")).toEqual({ resourceMetadata: [] });
  });

  it.each([
    ['Bearer resource_metadata="https://a.example/m'], // unterminated quote
    ["Bearer ,,,, scope"],
    ["=== , Bearer scope=x"],
    ['Bearer scope="x" garbage here, error=y'],
    ['Bearer "quoted-scheme"'],
    ["Bearer =x"],
    [",,,"],
    ['\u0000Bearer\u0001 scope="\u0002"'],
  ])("never throws on malformed input: %j", (header) => {
    expect(() => parseWwwAuthenticate(header)).not.toThrow();
  });

  it("recovers after a malformed element", () => {
    expect(parse('Bearer scope="x" garbage here, error=invalid_token')).toEqual({ resourceMetadata: [], scope: "x", error: "invalid_token" });
    expect(parse("=== , Bearer scope=x")!.scope).toBe("x");
  });

  it("finishes quickly on a huge header and ignores what lies past 16 KiB", () => {
    const header = `Bearer scope="${"a".repeat(20_000)}", resource_metadata="https://late.example/m"`;
    const result = parse(header);
    expect(result!.resourceMetadata).toEqual([]);
    expect(parse(`Bearer ${"x=y, ".repeat(100_000)}`)).toBeDefined();
  });
});

describe("parseWwwAuthenticate on hostile sizes", () => {
  it("handles thousands of bare schemes", () => {
    const challenges = parseWwwAuthenticate("a, ".repeat(5000));
    expect(challenges.length).toBeGreaterThan(1000);
    expect(challenges.every((c) => c.scheme === "a")).toBe(true);
  });
});
