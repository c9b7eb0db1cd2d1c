// Chromium dedicated Web Worker entry for the idb store (bundled as an ES module worker):
// post `{ id, op, args }`, get `{ id, result }` or `{ id, error }` back.
import { handle } from "./idb.mjs";

self.onmessage = async (event) => {
  const { id, op, args } = event.data;
  try {
    self.postMessage({ id, result: await handle(op, args) });
  } catch (error) {
    self.postMessage({ id, error: String(error?.stack ?? error) });
  }
};
