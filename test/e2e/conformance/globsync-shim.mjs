// Node 20 has no fs.globSync (added in Node 22), but @modelcontextprotocol/conformance's
// bundle imports it statically. Usage: node --import ./globsync-shim.mjs node_modules/.bin/conformance …
// On Node >= 22 this does nothing. Builtin ESM exports cannot gain new names at run time,
// so a resolve hook points the bundle's `import … from "fs"` at fs-with-globsync.mjs.
import fs from "node:fs";
import { register } from "node:module";

if (typeof fs.globSync !== "function") {
  register("./globsync-hooks.mjs", import.meta.url);
}
