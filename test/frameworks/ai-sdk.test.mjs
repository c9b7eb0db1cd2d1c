// Vercel AI SDK MCP client (@ai-sdk/mcp createMCPClient; `ai` 7 no longer exports it) with
// withClientCredentials() as the HTTP transport's `fetch`. Run by run.mjs on Node 22.
import assert from "node:assert/strict";
import { createMCPClient } from "@ai-sdk/mcp";
import { generateText, stepCountIs } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { withClientCredentials } from "mcp-client-credentials";
import { exampleTest, options, recordingFetch, reuseTest, run, stack, test, tokenRequests } from "./harness.mjs";

const TOOL_CALL = { toolCallId: "test", messages: [] };

/** A whole session the way an agent uses it: the tools as AI SDK tools, then their execute(). */
async function session(fetch) {
  const mcp = await createMCPClient({ transport: { type: "http", url: stack.mcpUrl, fetch } });
  try {
    const tools = await mcp.tools();
    const sum = await tools.add.execute({ a: 2, b: 3 }, TOOL_CALL);
    const whoami = await tools.whoami.execute({}, TOOL_CALL);
    return { names: Object.keys(tools).sort(), sum: sum.content[0].text, caller: whoami.structuredContent.clientId };
  } finally {
    await mcp.close();
  }
}

exampleTest("ai-sdk.mjs", "jwt", ["echo", "add", "whoami"]);

reuseTest("transport { type: 'http', fetch: authFetch }", "secret", session, { names: ["add", "echo", "whoami"], sum: "5" });

test("the transport's redirect: 'error' works through authFetch (sent to the network as 'manual')", async () => {
  const network = recordingFetch();
  const authFetch = withClientCredentials(options("secret"))(network);
  const asked = recordingFetch(authFetch);
  const result = await session(asked);
  assert.equal(result.sum, "5");
  // The AI SDK transport defaults to redirect: "error" on every MCP request …
  const mcpCalls = asked.calls.filter((call) => call.url === stack.mcpUrl);
  assert.ok(mcpCalls.length > 0 && mcpCalls.every((call) => call.redirect === "error"));
  // … which authFetch emulates (workerd throws a TypeError for "error").
  assert.deepEqual(
    network.calls.filter((call) => call.redirect === "error"),
    [],
  );
});

test("generateText() with a scripted model (ai/test, no LLM) calls the MCP tool, and the model gets 5 back", async () => {
  const { clientId } = stack.jwt;
  const before = await tokenRequests(clientId);
  const authFetch = withClientCredentials(options("jwt"))(fetch);
  const mcp = await createMCPClient({ transport: { type: "http", url: stack.mcpUrl, fetch: authFetch } });
  try {
    const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
    const model = new MockLanguageModelV4({
      doGenerate: [
        {
          content: [{ type: "tool-call", toolCallId: "call-1", toolName: "add", input: '{"a":2,"b":3}' }],
          finishReason: { unified: "tool-calls" },
          usage,
          warnings: [],
        },
        { content: [{ type: "text", text: "done" }], finishReason: { unified: "stop" }, usage, warnings: [] },
      ],
    });
    const result = await generateText({ model, tools: await mcp.tools(), prompt: "What is 2 + 3?", stopWhen: stepCountIs(3) });
    assert.equal(result.text, "done");
    const toolMessage = model.doGenerateCalls[1].prompt.at(-1);
    assert.deepEqual(toolMessage.content[0].output, { type: "content", value: [{ type: "text", text: "5" }] });
  } finally {
    await mcp.close();
  }
  assert.equal((await tokenRequests(clientId)) - before, 1);
});

await run();
