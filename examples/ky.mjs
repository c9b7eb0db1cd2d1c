#!/usr/bin/env node
// ky (or any client that takes a fetch) on top of the middleware: ky's hooks, retries and JSON
// helpers outside, the token flow inside.
//
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_CLIENT_ID=ci-robot MCP_CLIENT_SECRET=… node examples/ky.mjs
import ky from "ky";
import { withClientCredentials } from "mcp-client-credentials";

const { MCP_SERVER_URL, MCP_CLIENT_ID, MCP_CLIENT_SECRET } = process.env;

const api = ky.create({
  fetch: withClientCredentials({ clientId: MCP_CLIENT_ID, clientSecret: MCP_CLIENT_SECRET })(fetch),
  headers: { accept: "application/json, text/event-stream" },
});

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "ky", version: "1.0.0" } },
};
const text = await api.post(MCP_SERVER_URL, { json: initialize }).text();
const message = JSON.parse(
  text.startsWith("{")
    ? text
    : text
        .split("\n")
        .find((line) => line.startsWith("data:"))
        .slice(5),
);
console.log("server:", message.result.serverInfo.name);
