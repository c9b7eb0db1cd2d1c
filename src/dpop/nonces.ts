/** Whose nonce: the authorization server's (token requests) or a resource's. */
export type NonceServer = "as" | "rs";

/**
 * The latest `DPoP-Nonce` each server sent (RFC 9449 §8, §9), by role and origin: one origin may
 * host both the authorization server and the MCP server, each with nonces of its own. Every
 * response that carries one refreshes it.
 */
export class Nonces {
  readonly #byOrigin = new Map<string, string>();

  get(url: string | URL, server: NonceServer): string | undefined {
    return this.#byOrigin.get(`${server} ${new URL(url).origin}`);
  }

  /** Keeps the nonce a response carries, if any; true when it is a new one. */
  remember(url: string | URL, response: { headers: Headers }, server: NonceServer): boolean {
    const nonce = Nonces.read(response);
    if (nonce === undefined) return false;
    const origin = `${server} ${new URL(url).origin}`;
    if (this.#byOrigin.get(origin) === nonce) return false;
    if (this.#byOrigin.size >= 1000 && !this.#byOrigin.has(origin)) this.#byOrigin.delete(this.#byOrigin.keys().next().value!);
    this.#byOrigin.set(origin, nonce);
    return true;
  }

  /** The answer's nonce: an opaque NQCHAR string (RFC 9449 §8.1); anything else is not sent back. */
  static read(response: { headers: Headers }): string | undefined {
    const nonce = response.headers.get("dpop-nonce");
    return nonce && nonce.length <= 1024 && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(nonce) ? nonce : undefined;
  }

  clear(): void {
    this.#byOrigin.clear();
  }
}
