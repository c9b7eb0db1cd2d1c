// Resolve hook for globsync-shim.mjs: `fs` / `node:fs` imported from outside this folder
// resolves to fs-with-globsync.mjs (all of node:fs, plus globSync).
const replacement = new URL("./fs-with-globsync.mjs", import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if ((specifier === "fs" || specifier === "node:fs") && context.parentURL !== replacement) {
    return { url: replacement, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
