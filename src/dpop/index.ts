import type { parseWwwAuthenticate } from "../discovery/challenge.js";
import type { ClientCredentialsError } from "../errors.js";
import { type DpopKey, DpopKeyError, generateDpopKey, importDpopKey } from "./key.js";
import { type NonceServer, Nonces } from "./nonces.js";
import { createProof } from "./proof.js";

export { DpopKeyError };

/** base64url and SHA-256 from util.ts, handed in so that this chunk imports nothing from the initial one. */
export interface Encoding {
  base64url(bytes: Uint8Array): string;
  sha256(text: string): Promise<string>;
}

/**
 * What this lazily loaded chunk needs from the initial one, handed in rather than imported: a
 * static import would make bundlers split a shared chunk off the initial load, which costs a
 * client without DPoP a few hundred bytes.
 */
export interface DpopTools extends Encoding {
  parseWwwAuthenticate: typeof parseWwwAuthenticate;
  /** For a key pair that cannot be used: a `config` error. */
  ClientCredentialsError: typeof ClientCredentialsError;
}

/** What the `dpop` option resolves to: when to use DPoP, and with which key. */
export interface DpopSetting {
  /** "always": every token request carries a proof; "auto": only when the server lists DPoP algorithms. */
  readonly mode: "always" | "auto";
  /** The caller's key pair, which a fleet may share; without it each instance generates its own. */
  readonly keyPair?: CryptoKeyPair;
  readonly algorithm?: string;
}

/**
 * One instance's DPoP state: its key (generated or imported on first use), and the nonces its
 * servers sent. Proofs are made fresh for every request, retries and redirect hops included.
 */
export class Dpop {
  readonly nonces = new Nonces();
  #key: Promise<DpopKey> | undefined;

  constructor(
    readonly setting: DpopSetting,
    private readonly tools: DpopTools,
  ) {}

  /** Whether tokens bound to this key may go to a shared store: only when the fleet shares the key. */
  get shared(): boolean {
    return this.setting.keyPair !== undefined;
  }

  key(): Promise<DpopKey> {
    const { keyPair, algorithm } = this.setting;
    this.#key ??= (keyPair ? importDpopKey(keyPair, algorithm, this.tools) : generateDpopKey(this.tools)).catch((error: unknown) => {
      if (!(error instanceof DpopKeyError)) throw error;
      throw new this.tools.ClientCredentialsError("config", `dpop.keyPair: ${error.message}`, { code: "invalid_key" });
    });
    return this.#key;
  }

  /**
   * Whether to bind tokens from a server with these DPoP algorithms (RFC 9449 §5.1 metadata):
   * always when asked to (a server that cannot is an error, never a silent downgrade to Bearer);
   * in "auto" mode, when it lists this key's algorithm.
   */
  async accepts(algorithms: readonly string[] | undefined): Promise<boolean> {
    if (this.setting.mode === "always") return true;
    return algorithms?.includes((await this.key()).alg) ?? false;
  }

  /** A proof for one request, and the nonce it carries; with the token it goes with, `ath` too (requests to a resource). */
  async proof(method: string, url: string | URL, token?: { accessToken: string }): Promise<{ proof: string; nonce: string | undefined }> {
    const nonce = this.nonces.get(url, token === undefined ? "as" : "rs");
    return { proof: await createProof(await this.key(), { htm: method, htu: String(url), nonce, token }, this.tools), nonce };
  }

  /**
   * Keeps the nonce an answer carries (RFC 9449 §8, §9). `fresh`: new to this client (an event);
   * `changed`: not the one this request's proof carried (worth its one retry, whichever
   * concurrent request saw the nonce first).
   */
  observe(url: string | URL, response: { headers: Headers }, server: NonceServer, sent: string | undefined): { fresh: boolean; changed: boolean } {
    const fresh = this.nonces.remember(url, response, server);
    const nonce = Nonces.read(response);
    return { fresh, changed: nonce !== undefined && nonce !== sent };
  }

  /** A resource's 401 asking for a nonce: `WWW-Authenticate: DPoP error="use_dpop_nonce"`. */
  asksNonce(response: Response): boolean {
    return this.tools
      .parseWwwAuthenticate(response.headers.get("www-authenticate"))
      .some((challenge) => challenge.scheme === "dpop" && challenge.params.error?.includes("use_dpop_nonce"));
  }

  /**
   * Why a token response does not fit a proof: a Bearer token is a server that ignores DPoP. In
   * "auto" mode that is allowed (RFC 9449 §5: a server that lists DPoP may still not bind for
   * this client or grant), and the token is used as the Bearer token it is.
   */
  refusal(tokenType: string): { message: string; code: string } | undefined {
    const type = tokenType.toLowerCase();
    if (type === "dpop" || (type === "bearer" && this.setting.mode === "auto")) return undefined;
    return type === "bearer"
      ? {
          message:
            'the authorization server answered a DPoP proof with a Bearer token: it ignores DPoP for this client (enable it there, or use dpop: "auto" to accept Bearer tokens)',
          code: "dpop_not_bound",
        }
      : { message: `unsupported token_type ${JSON.stringify(tokenType.slice(0, 64))} (a DPoP token was asked for)`, code: "unsupported_token_type" };
  }
}
