// What the CLI tests ask of the real MCP server: does it take a token, and an SDK client that
// records what the server sends it.
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { LoggingMessageNotificationSchema, ProgressNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { initializeRequest } from "../mcp-messages.js";

/** Whether the MCP server accepts a bearer token: an initialize with it answers 200. */
export async function acceptsToken(mcpUrl: string, accessToken: string): Promise<boolean> {
  const response = await fetch(mcpUrl, initializeRequest("cli-e2e", { authorization: `Bearer ${accessToken}` }));
  await response.body?.cancel();
  return response.status === 200;
}

/** Records a client's errors, log messages and progress notifications (call before connect). */
export function recordNotifications(client: Client): { errors: unknown[]; logs: string[]; progress: unknown[] } {
  const errors: unknown[] = [];
  client.onerror = (error) => void errors.push(error);
  const logs: string[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => void logs.push(String(notification.params.data)));
  // Not callTool's onprogress: the SDK Client drops a progress notification that arrives in the
  // same chunk as its response (the response retires the token first).
  const progress: unknown[] = [];
  client.setNotificationHandler(ProgressNotificationSchema, (notification) => void progress.push(notification.params));
  return { errors, logs, progress };
}
