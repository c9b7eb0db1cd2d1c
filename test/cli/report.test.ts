import { describe, expect, it } from "vitest";
import type { DiscoveryReport } from "../../src/cli/discover.js";
import type { Paint } from "../../src/cli/output.js";
import { render } from "../../src/cli/report.js";

/** No colour: any escape in the output came from the report's text. */
const plain: Paint = (_style, text) => text;
/** Marks the styles without escapes, to see that painted text is cleaned too. */
const marked: Paint = (style, text) => `<${style}>${text}</${style}>`;

// What a hostile server can make a terminal do: OSC 52 writes the clipboard, CSI 2K erases the
// line, U+009B is a one-byte CSI, and a newline or carriage return forges a line of its own.
const HOSTILE = ["\x1b]52;c;Y2xpcGJvYXJk\x07", "\x1b[2K", "\u009b31m", "\r\nINJECTED line", "\x7f"].join("");
const h = (name: string) => `${name}${HOSTILE}`;

/** Every string of the report a server chose carries HOSTILE. */
function hostileReport(): DiscoveryReport {
  return {
    url: h("https://mcp.example.com/mcp"),
    probe: { status: 401, wwwAuthenticate: h('Bearer resource_metadata="https://mcp.example.com/prm"'), resourceMetadata: [] },
    resourceMetadata: {
      tried: [{ url: h("https://mcp.example.com/prm"), status: 200, ok: false, refused: h("refused reason") }],
      resource: h("https://mcp.example.com/mcp"),
      authorizationServers: [h("https://auth.example.com")],
      scopesSupported: [h("mcp:read"), h("mcp:write")],
    },
    authorizationServer: {
      issuer: h("https://auth.example.com"),
      tried: [{ url: h("https://auth.example.com/.well-known/oauth-authorization-server"), status: 200, ok: true }],
      tokenEndpoint: h("https://auth.example.com/token"),
      authMethods: [h("private_key_jwt")],
      signingAlgs: [h("ES256")],
      grantTypes: [h("client_credentials")],
      others: [h("https://other.example.com")],
    },
    verdict: { ok: false, summary: h("summary"), options: [h("option")], fix: h("fix"), warnings: [h("warning")] },
  };
}

/** C0 controls but the newline that separates lines, DEL, and C1. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe("render", () => {
  it("strips ESC, CSI, C1 and line breaks from every server-chosen string", () => {
    const text = render(hostileReport(), plain);
    expect(CONTROL.test(text)).toBe(false);
    // A forged line would start with the injected text; it stays on the line of its field.
    for (const line of text.split("\n")) expect(line.startsWith("INJECTED")).toBe(false);
    for (const name of ["summary", "option", "fix", "warning", "refused reason", "mcp:read", "mcp:write", "private_key_jwt", "client_credentials"]) {
      expect(text).toContain(`${name} ]52;c;Y2xpcGJvYXJk [2K 31m INJECTED line`);
    }
    // The same number of lines as the report without the hostile text.
    const tame = render(JSON.parse(JSON.stringify(hostileReport()).replaceAll(JSON.stringify(HOSTILE).slice(1, -1), "")) as DiscoveryReport, plain);
    expect(tame.includes("INJECTED")).toBe(false);
    expect(text.split("\n")).toHaveLength(tame.split("\n").length);
  });

  it("cleans text that goes through paint() too (refused reasons, the verdict's mark)", () => {
    const text = render(hostileReport(), marked);
    expect(CONTROL.test(text)).toBe(false);
    expect(text).toContain("<red>  refused: refused reason ]52;c;Y2xpcGJvYXJk [2K 31m INJECTED line</red>");
    expect(text).toContain("<bold>Authorization server metadata (issuer https://auth.example.com ]52;c;Y2xpcGJvYXJk [2K 31m INJECTED line)</bold>");
  });

  it("keeps the escapes paint() adds: only the report's own text is cleaned", () => {
    const colour: Paint = (_style, text) => `\x1b[1m${text}\x1b[22m`;
    const text = render(hostileReport(), colour);
    expect(text).toContain("\x1b[1mVerdict\x1b[22m");
    expect(text.replaceAll(/\x1b\[(1|22)m/g, "").includes("\x1b")).toBe(false);
  });
});
