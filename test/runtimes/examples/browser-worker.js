// Browser Web Worker: new Worker(new URL("./browser-worker.js", import.meta.url), { type: "module" }).
// Never ship a client secret to a browser: give the worker a non-extractable private key
// (crypto.subtle.generateKey(..., false, ["sign"]), kept in IndexedDB) whose public JWK is
// registered with the authorization server; the key itself can never be read back.
import { withClientCredentials } from "mcp-client-credentials";

let authFetch;

self.onmessage = async ({ data }) => {
  try {
    authFetch ??= withClientCredentials({
      clientId: data.clientId,
      privateKey: data.privateKey, // a CryptoKey, structured-cloned from the page
    })(fetch);
    const response = await authFetch(data.serverUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    self.postMessage({ status: response.status, body: await response.json() });
  } catch (error) {
    self.postMessage({ error: `${error.name}: ${error.message}` }); // ClientCredentialsError: phase, code, status
  }
};
