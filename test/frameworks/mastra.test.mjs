// Mastra (@mastra/mcp MCPClient) with withClientCredentials() as the HTTP server's `fetch`.
// Run by run.mjs on Node 22 (Mastra requires >= 22.13).
import { MCPClient } from "@mastra/mcp";
import { exampleTest, reuseTest, run, stack, warmUpTest } from "./harness.mjs";

let clients = 0;

/** A whole session the way an agent uses it: Mastra tools (<server>_<tool>), then their execute(). */
async function session(fetch) {
  // MCPClient refuses a second instance with an identical configuration unless each has an id.
  const mcp = new MCPClient({ id: `mastra-test-${++clients}`, servers: { reports: { url: new URL(stack.mcpUrl), fetch } } });
  try {
    // listTools() logs a failed connection and answers {}: the names below are the real check.
    const tools = await mcp.listTools();
    const sum = await tools.reports_add.execute({ a: 2, b: 3 }, {});
    const whoami = await tools.reports_whoami.execute({}, {});
    return { names: Object.keys(tools).sort(), sum: sum.sum, caller: whoami.clientId };
  } finally {
    await mcp.disconnect();
  }
}

exampleTest("mastra.mjs", "secret", ["reports_echo", "reports_add", "reports_whoami"]);

reuseTest("servers.<name>.fetch = authFetch", "jwt", session, { names: ["reports_add", "reports_echo", "reports_whoami"], sum: 5 });

warmUpTest("connectTimeout", "secret", session, 5);

await run();
