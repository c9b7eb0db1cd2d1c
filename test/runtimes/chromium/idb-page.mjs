// Chromium page entry for the idb store (bundled as an ES module): `handle` runs an op in this
// tab; `inWorker` runs it in this tab's dedicated module worker (started on first use);
// `stopWorker` terminates that worker (and with it every Web Lock it holds); `inServiceWorker`
// runs it in the origin's service worker (registered on first use).
export { handle } from "./idb.mjs";

let worker;
let nextId = 0;
const pending = new Map();

function failAll(message) {
  for (const { reject } of pending.values()) reject(new Error(message));
  pending.clear();
}

export function inWorker(op, args) {
  if (!worker) {
    worker = new Worker("/idb-worker.js", { type: "module" });
    worker.onmessage = (event) => {
      const { id, result, error } = event.data;
      const call = pending.get(id);
      pending.delete(id);
      if (error) call?.reject(new Error(error));
      else call?.resolve(result);
    };
    worker.onerror = (event) => failAll(`worker error: ${event.message}`);
  }
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, op, args });
  });
}

export function stopWorker() {
  worker?.terminate();
  worker = undefined;
  failAll("worker terminated");
}

let serviceWorker;
export async function inServiceWorker(op, args) {
  serviceWorker ??= navigator.serviceWorker.register("/idb-sw.js", { type: "module", scope: "/" }).then(() => navigator.serviceWorker.ready);
  const registration = await serviceWorker;
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve, reject) => {
    port1.onmessage = (event) => {
      port1.close();
      if (event.data.error) reject(new Error(event.data.error));
      else resolve(event.data.result);
    };
    registration.active.postMessage({ id: 0, op, args }, [port2]);
  });
}
