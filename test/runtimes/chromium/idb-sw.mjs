// Chromium service worker entry for the idb store (bundled as an ES module service worker): a
// page posts `{ id, op, args }` with a MessagePort and gets `{ id, result }` or `{ id, error }`
// on it. waitUntil keeps the worker alive while an op (a lock wait) runs.
import { handle } from "./idb.mjs";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("message", (event) => {
  const { id, op, args } = event.data;
  const [port] = event.ports;
  event.waitUntil(
    handle(op, args).then(
      (result) => port.postMessage({ id, result }),
      (error) => port.postMessage({ id, error: String(error?.stack ?? error) }),
    ),
  );
});
