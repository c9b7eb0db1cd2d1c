import { type DpopKey, generateDpopKey, importDpopKey } from "./key.js";
import { Nonces } from "./nonces.js";
import { createProof } from "./proof.js";

export { DpopKeyError } from "./key.js";

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

  constructor(readonly setting: DpopSetting) {}

  /** Whether tokens bound to this key may go to a shared store: only when the fleet shares the key. */
  get shared(): boolean {
    return this.setting.keyPair !== undefined;
  }

  key(): Promise<DpopKey> {
    this.#key ??= this.setting.keyPair ? importDpopKey(this.setting.keyPair, this.setting.algorithm) : generateDpopKey();
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

  /** A proof for one request; `accessToken` adds `ath` (requests to a resource). */
  async proof(method: string, url: string | URL, accessToken?: string): Promise<string> {
    return createProof(await this.key(), { htm: method, htu: String(url), nonce: this.nonces.get(url), accessToken });
  }
}
