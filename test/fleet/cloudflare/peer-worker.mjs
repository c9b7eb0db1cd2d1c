// Worker "stores-b": a separate script that binds stores-a's Durable Object class (scriptName)
// and the same KV namespace, and only runs single operations.
import { runOp } from "./ops.mjs";

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/op") return runOp(request, env);
    return new Response("not found", { status: 404 });
  },
};
