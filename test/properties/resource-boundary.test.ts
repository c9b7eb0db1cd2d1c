import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isUnderResource, resourceOf } from "../../src/discovery/resource-metadata.js";
import { ClientCredentialsError } from "../../src/errors.js";
import { withClientCredentials } from "../../src/index.js";
import { coverage, middlewareSettings, propertyTimeout, sampleSettings, settings } from "./arbitraries.js";

/**
 * What a server at the resource's origin may see after the resource's path without leaving it:
 * no encoded `/` or `\` (a server that decodes before routing would split there) and no dot-segment,
 * whether percent-encoded or hidden behind `;` path parameters (Tomcat-style `..;`).
 */
function staysInside(tail: string): boolean {
  if (/%2f|%5c|\\/i.test(tail)) return false;
  return tail.split("/").every((segment) => {
    const bare = segment.split(";")[0]!.replace(/%2e/gi, ".");
    return bare !== "." && bare !== "..";
  });
}

/** The property itself: `url` is the resource, or under it at a `/` boundary and never escaping. */
function covered(url: URL, resource: URL): boolean {
  if (url.origin !== resource.origin) return false;
  const base = resource.pathname;
  if (base === "/" || url.pathname === base) return true;
  const prefix = base.endsWith("/") ? base : `${base}/`;
  return url.pathname.startsWith(prefix) && staysInside(url.pathname.slice(prefix.length));
}

const RESOURCES = [
  "https://mcp.example.com/mcp",
  "https://mcp.example.com/mcp/",
  "https://mcp.example.com/a/b",
  "https://mcp.example.com/",
  "https://mcp.example.com:8443/mcp",
  "http://127.0.0.1:8080/mcp",
  "https://[::1]/mcp",
  "https://bücher.example/mcp",
];

// ---- request URLs assembled from the pieces that attack prefix matching
const SCHEMES = ["https", "HTTPS", "hTtPs", "http", "HTTP"];
const USERINFO = ["", "", "user:pass@", "user@", ":@", "mcp.example.com@"];
const HOSTS = [
  ...["mcp.example.com", "MCP.Example.COM", "mcp.example.com.", "evil.example", "mcp.example.com.evil.example", "mcp-example.com"],
  ...["bücher.example", "BÜCHER.example", "xn--bcher-kva.example", "[::1]", "[0:0::1]", "[0:0:0:0:0:0:0:1]"],
  ...["127.0.0.1", "127.1", "0x7f.1", "0x7f.0.0.1", "2130706433", "0177.0.0.1"],
];
const PORTS = ["", "", ":443", ":80", ":8443", ":8080", ":0443"];
const PREFIXES = ["", "/mcp", "/mcp/", "/MCP", "/mcpx", "/a/b", "/a", "//mcp"];
const SEGMENTS = ["x", "admin", "", "..", ".", "%2e", "%2E%2e", ".%2e", "%2e.", "..;", ".;", ";x", "..;x", "%2e%2e;"];
const GLUE = ["/", "/", "//", "%2f", "%2F", "%5c", "%5C", "\\", ";", "..%2f", "%2e%2e%2f", "%252f"];
const QUERIES = ["", "", "?x=1", "?/../admin", "?%2f", "#f", "#/../admin", "?a#b"];

const tail = fc.array(fc.tuple(fc.constantFrom(...GLUE), fc.constantFrom(...SEGMENTS)), { maxLength: 5 }).map((parts) => parts.flat().join(""));
const requestUrl = fc
  .tuple(
    fc.constantFrom(...SCHEMES),
    fc.constantFrom(...USERINFO),
    fc.constantFrom(...HOSTS),
    fc.constantFrom(...PORTS),
    fc.constantFrom(...PREFIXES),
    tail,
    fc.constantFrom(...QUERIES),
  )
  .map(([scheme, userinfo, host, port, prefix, rest, query]) => `${scheme}://${userinfo}${host}${port}${prefix}${rest}${query}`);
/** The resource's own origin, spelled in the ways that still mean it, then its path and an attack: most cases land near the boundary. */
const nearResource = (resourceHref: string) => {
  const { protocol, host, pathname } = new URL(resourceHref);
  const defaultPort = protocol === "https:" ? ":443" : ":80";
  const origins = [`${protocol}//${host}`, `${protocol.toUpperCase()}//${host.toUpperCase()}`, `${protocol}//user:pass@${host}`];
  if (!host.includes(":") || host.endsWith("]")) origins.push(`${protocol}//${host}${defaultPort}`);
  return fc
    .tuple(fc.constantFrom(...origins), fc.constantFrom(pathname, pathname.replace(/\/$/, "")), tail, fc.constantFrom(...QUERIES))
    .map(([origin, path, rest, query]) => `${origin}${path}${rest}${query}`);
};

const FAMILIES: Record<string, (url: string) => boolean> = {
  "..": (u) => /\/\.\.(?:[/;?#]|$)/.test(u),
  "%2e": (u) => /%2e/i.test(u),
  "%2f": (u) => /%2f/i.test(u),
  "%5c": (u) => /%5c/i.test(u),
  "\\": (u) => u.includes("\\"),
  ";": (u) => u.includes(";"),
  userinfo: (u) => /:\/\/[^/]*@/.test(u),
  ":443 on https": (u) => /^https:\/\/[^/]*:443\//i.test(u),
  ":80 on http": (u) => /^http:\/\/[^/]*:80\//i.test(u),
  ":8443": (u) => u.includes(":8443"),
  IDN: (u) => /bücher/i.test(u),
  punycode: (u) => u.includes("xn--"),
  IPv6: (u) => u.includes("[0:0::1]"),
  "IPv4 short": (u) => u.includes("127.1"),
  "IPv4 hex": (u) => u.includes("0x7f"),
  "trailing dot": (u) => /\.(?:[:/]|$)/.test(u.split("://")[1]!.split("/")[0]!),
  "upper case": (u) => /^[A-Z]+:|MCP\.Example/.test(u),
  "//": (u) => u.split("://")[1]!.includes("//"),
  query: (u) => u.includes("?"),
  fragment: (u) => u.includes("#"),
};

/** A resource, and a request URL either anywhere or near that resource's boundary. */
const resourceAndUrl = fc
  .constantFrom(...RESOURCES)
  .chain((resourceHref) => fc.tuple(fc.constant(resourceHref), fc.oneof(requestUrl, nearResource(resourceHref))));

const parse = (href: string) => {
  try {
    return new URL(href);
  } catch {
    return undefined;
  }
};

describe("isUnderResource never lets a URL outside its resource", () => {
  it(
    "whenever it says yes: same origin, the path or under it at a /, nothing encoded that escapes",
    () => {
      let accepted = 0;
      fc.assert(
        fc.property(resourceAndUrl, ([resourceHref, href]) => {
          const url = parse(href);
          if (!url) return;
          const resource = resourceOf(new URL(resourceHref));
          if (!isUnderResource(url, resource)) return;
          accepted++;
          expect(covered(url, resource), `${url.href} under ${resource.href}`).toBe(true);
        }),
        settings,
      );
      expect(accepted).toBeGreaterThan(settings.numRuns / 20); // not vacuous
    },
    propertyTimeout,
  );

  it("the generated URLs include every attack family", () => {
    const families = coverage(FAMILIES);
    for (const [, href] of fc.sample(resourceAndUrl, sampleSettings)) families.note(href);
    expect(families.missing()).toEqual([]);
  });

  it(
    "and says yes to every clean URL under the resource, however its origin is spelled",
    () => {
      const segment = fc.string({ unit: fc.constantFrom(..."abcxyz019-._~!$&'()*+,=:@"), minLength: 1, maxLength: 8 }).filter((s) => s !== "." && s !== "..");
      fc.assert(
        fc.property(
          fc.constantFrom("https://mcp.example.com", "HTTPS://MCP.EXAMPLE.COM:443", "https://Mcp.Example.Com"),
          fc.array(segment, { maxLength: 4 }),
          fc.constantFrom("", "/"),
          fc.constantFrom(...QUERIES),
          (origin, segments, slash, query) => {
            const url = new URL(`${origin}/mcp${segments.map((s) => `/${s}`).join("")}${slash}${query}`);
            expect(isUnderResource(url, resourceOf(new URL("https://mcp.example.com/mcp")))).toBe(true);
          },
        ),
        settings,
      );
    },
    propertyTimeout,
  );

  const resource = resourceOf(new URL("https://mcp.example.com/mcp"));
  it.each([
    "https://mcp.example.com/mcp/..%2fadmin",
    "https://mcp.example.com/mcp/%2e%2e%2fadmin",
    "https://mcp.example.com/mcp/%2E%2E%2Fadmin",
    "https://mcp.example.com/mcp/x/..%5cadmin",
    "https://mcp.example.com/mcp/..;/admin",
    "https://mcp.example.com/mcp/%2e%2e;x/admin",
    "https://mcp.example.com/mcpx",
    "https://mcp.example.com./mcp",
    "https://mcp.example.com:8443/mcp",
    "http://mcp.example.com/mcp",
    "https://evil.example/mcp",
    "https://mcp.example.com.evil.example/mcp",
  ])("refuses %s", (href) => {
    expect(isUnderResource(new URL(href), resource)).toBe(false);
  });
  it.each([
    "https://mcp.example.com/mcp",
    "https://MCP.EXAMPLE.COM:443/mcp/x?y=%2f#z",
    "https://user:pass@mcp.example.com/mcp/",
    "https://mcp.example.com/mcp/a/../b",
    "https://mcp.example.com/mcp/%2e/b",
    "https://mcp.example.com/mcp/a;v=1/b",
    "https://mcp.example.com/mcp/tools%3Alist",
  ])("accepts %s", (href) => {
    expect(isUnderResource(new URL(href), resource)).toBe(true);
  });
});

// ---- the middleware: which requests `next` received with a token
const RESOURCE = "https://mcp.example.com/mcp";
const TOKEN_ENDPOINT = "https://auth.example.com/token";
const ACCESS_TOKEN = "property-test-access-token";
/** Redirect targets the resource answers with; `401` answers a 401 instead (the middleware retries once with a new token). */
const LOCATIONS = [
  "401",
  "../admin",
  "..%2fadmin",
  "%2e%2e%2fadmin",
  "x",
  "/mcp/ok",
  "/mcp/..%2fadmin",
  "//evil.example/mcp",
  "https://mcp.example.com.:443/mcp/x",
];

interface Sent {
  url: string;
  authorization: string | null;
}

/** A fake `next`: the token endpoint issues a token, resources answer 200 or with queued redirects and 401s. */
function recordingFetch(redirects: string[]) {
  const sent: Sent[] = [];
  const next = async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    sent.push({ url, authorization: headers.get("authorization") });
    if (url === TOKEN_ENDPOINT) return Response.json({ access_token: ACCESS_TOKEN, token_type: "Bearer", expires_in: 3600 });
    const location = redirects.shift();
    if (location === "401") return new Response(null, { status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } });
    return location === undefined ? new Response("ok") : new Response(null, { status: 307, headers: { location } });
  };
  return { sent, next };
}

/** What URL parsing and Request construction throw, and the typed errors redirects and 401s (on URLs with userinfo) may end in. */
function expectedFailure(error: unknown): boolean {
  if (error instanceof ClientCredentialsError) return ["too_many_redirects", "unexpected_redirect", "invalid_url"].includes(error.code ?? "");
  return error instanceof TypeError && /Invalid URL|Failed to parse URL|credentials/i.test(error.message);
}

describe("withClientCredentials attaches the token only under its resource", () => {
  const call = fc.record({
    href: fc.oneof(requestUrl, nearResource(RESOURCE)),
    form: fc.constantFrom("string", "URL", "Request"),
    redirects: fc.array(fc.oneof(fc.constantFrom(...LOCATIONS), requestUrl, nearResource(RESOURCE)), { maxLength: 3 }),
  });

  it(
    "every request `next` received with authorization went to https://mcp.example.com/mcp or under it",
    async () => {
      let authorized = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 5 }), async (calls) => {
          const queue: string[] = [];
          const { sent, next } = recordingFetch(queue);
          const authFetch = withClientCredentials({
            clientId: "c",
            clientSecret: "s",
            authMethod: "client_secret_post",
            resource: RESOURCE,
            tokenEndpoint: TOKEN_ENDPOINT,
          })(next);
          for (const { href, form, redirects } of calls) {
            queue.splice(0, queue.length, ...redirects);
            try {
              const input = form === "string" ? href : form === "URL" ? new URL(href) : new Request(href);
              await authFetch(input);
            } catch (error) {
              if (!expectedFailure(error)) throw error;
            }
          }
          for (const request of sent.filter((s) => s.authorization !== null)) {
            expect(request.authorization === `Bearer ${ACCESS_TOKEN}`, "the issued token, not printed").toBe(true);
            expect(covered(new URL(request.url), new URL(RESOURCE)), request.url).toBe(true);
            authorized++;
          }
        }),
        middlewareSettings,
      );
      expect(authorized).toBeGreaterThan(middlewareSettings.numRuns / 10); // not vacuous
    },
    propertyTimeout,
  );
});
