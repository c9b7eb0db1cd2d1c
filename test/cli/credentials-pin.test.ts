import { HttpResponse, http } from "msw";
import { beforeAll, describe, expect, it } from "vitest";
import type { Values } from "../../src/cli/args.js";
import { readCredentials } from "../../src/cli/credentials.js";
import { createOutput } from "../../src/cli/output.js";
import { type Canaries, canaries } from "../canary.js";
import { useMockServer } from "../helpers.js";

// The resource metadata names the whole origin, as many servers do: without a pin, every path of
// it could carry the token. The command was given only /mcp.
const ORIGIN = "https://mcp.example.com";
const GIVEN = `${ORIGIN}/mcp`;
const OTHER_PATH = `${ORIGIN}/admin`;
const OTHER_ORIGIN = "https://elsewhere.example/mcp";

const msw = useMockServer();
let c: Canaries;
beforeAll(async () => {
  c = await canaries();
});

/** The Authorization header each request to the other path or origin carried ("none" when none). */
function setUp() {
  const seen: Record<string, string[]> = { [OTHER_PATH]: [], [OTHER_ORIGIN]: [] };
  const record = (url: string) =>
    http.all(url, ({ request }) => {
      seen[url]!.push(request.headers.get("authorization") === null ? "none" : "a token");
      return HttpResponse.text("open");
    });
  const mock = msw.mock({ clients: [c.client], resource: `${ORIGIN}/` }, record(OTHER_PATH), record(OTHER_ORIGIN));
  return { mock, seen };
}

function create(values: Values, pin?: URL) {
  const output = createOutput({
    stdout: { write: () => true },
    stderr: { write: () => true },
    env: { MCP_CLIENT_ID: c.clientId, MCP_CLIENT_SECRET: c.clientSecret },
  });
  return readCredentials(values, output)!.create(fetch, pin);
}

describe("Credentials.create(next, pin)", () => {
  it("sends tokens to the pinned URL only, not to another path of its origin nor another origin", async () => {
    const { mock, seen } = setUp();
    const authFetch = create({}, new URL(GIVEN));
    expect((await authFetch(GIVEN)).status).toBe(200);
    // The pinned URL carried the token the mock issued (it answers 200 to nothing else).
    expect(mock.tokens).toHaveLength(1);
    expect(mock.requestsTo("resource").at(-1)?.headers.authorization === `Bearer ${mock.tokens[0]!.accessToken}`).toBe(true);
    expect(await (await authFetch(OTHER_PATH)).text()).toBe("open");
    expect(await (await authFetch(OTHER_ORIGIN)).text()).toBe("open");
    expect(seen).toEqual({ [OTHER_PATH]: ["none"], [OTHER_ORIGIN]: ["none"] });
  });

  it("without a pin, the discovered resource decides (the whole origin here): the pin is what keeps the token in", async () => {
    const { seen } = setUp();
    const authFetch = create({});
    expect((await authFetch(GIVEN)).status).toBe(200);
    await authFetch(OTHER_PATH);
    expect(seen[OTHER_PATH]).toEqual(["a token"]);
  });

  it("lets --resource-url override the pin", async () => {
    const { seen } = setUp();
    const authFetch = create({ "resource-url": `${ORIGIN}/` }, new URL(GIVEN));
    expect((await authFetch(GIVEN)).status).toBe(200);
    await authFetch(OTHER_PATH);
    expect(seen[OTHER_PATH]).toEqual(["a token"]);
  });

  it("honours --resource-url without --no-resource", async () => {
    const { mock, seen } = setUp();
    const authFetch = create({ "resource-url": GIVEN });
    expect((await authFetch(GIVEN)).status).toBe(200);
    expect(mock.tokens).toHaveLength(1);
    await authFetch(OTHER_PATH);
    expect(seen[OTHER_PATH]).toEqual(["none"]);
  });
});
