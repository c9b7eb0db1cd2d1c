// The one node:fs call the file source makes, typed here so that the library's types need no
// @types/node (Node, Deno and Bun all provide node:fs/promises).
declare module "node:fs/promises" {
  export function readFile(path: string | URL, encoding: "utf8"): Promise<string>;
}
