/**
 * The mutable state shared by the handlers of one mock, and the wrapper every handler uses to
 * record the request and consume a queued fault.
 * @internal
 */

import { newNonce } from "./dpop.js";
import { applyFault } from "./faults.js";
import type { ResolvedConfig } from "./options.js";
import type { IssuedToken, MockEndpoint, MockFault, RecordedDpop, RecordedRequest } from "./types.js";

interface QueuedFault {
  fault: MockFault;
  remaining: number;
}

export class MockState {
  readonly requests: RecordedRequest[] = [];
  readonly tokens: IssuedToken[] = [];
  readonly tokensByValue = new Map<string, IssuedToken>();
  readonly revoked = new Set<string>();
  readonly usedJti = new Set<string>();
  readonly faultQueues = new Map<MockEndpoint, QueuedFault[]>();
  /** `jti` values of accepted DPoP proofs, per server and key (RFC 9449 §11.1). */
  readonly usedDpopJti = new Set<string>();
  /** The current DPoP nonce of the authorization server and of the resource (RFC 9449 §8, §9). */
  readonly dpopNonces = { token: newNonce(), resource: newNonce() };
  /** Each request's record, so a handler can note what it made of the request's DPoP proof. */
  readonly #records = new WeakMap<Request, RecordedRequest>();

  constructor(readonly config: ResolvedConfig) {}

  queueFault(endpoint: MockEndpoint, fault: MockFault, times: number): void {
    if (!(times >= 1) || (!Number.isInteger(times) && times !== Infinity)) {
      throw new RangeError(`McpAuthMock.fault: times must be a positive integer or Infinity, got ${times}`);
    }
    const queue = this.faultQueues.get(endpoint) ?? [];
    queue.push({ fault, remaining: times });
    this.faultQueues.set(endpoint, queue);
  }

  takeFault(endpoint: MockEndpoint): MockFault | undefined {
    const queue = this.faultQueues.get(endpoint);
    const head = queue?.[0];
    if (queue === undefined || head === undefined) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    return head.fault;
  }

  addToken(token: IssuedToken): void {
    this.tokens.push(token);
    this.tokensByValue.set(token.accessToken, token);
  }

  revoke(accessToken?: string): void {
    if (accessToken === undefined) {
      for (const token of this.tokens) this.revoked.add(token.accessToken);
    } else {
      this.revoked.add(accessToken);
    }
  }

  reset(): void {
    this.requests.length = 0;
    this.tokens.length = 0;
    this.tokensByValue.clear();
    this.revoked.clear();
    this.usedJti.clear();
    this.faultQueues.clear();
    this.usedDpopJti.clear();
    this.rotateDpopNonce();
  }

  rotateDpopNonce(server?: "token" | "resource"): void {
    if (server !== "resource") this.dpopNonces.token = newNonce();
    if (server !== "token") this.dpopNonces.resource = newNonce();
  }

  noteDpop(request: Request, outcome: RecordedDpop): void {
    const record = this.#records.get(request);
    if (record !== undefined) record.dpop = outcome;
  }

  /**
   * Records `request`, then answers with the next queued fault for `endpoint`, or `behaviour`.
   */
  async handle(endpoint: MockEndpoint, request: Request, behaviour: (request: Request) => Promise<Response>): Promise<Response> {
    // Record and take the fault synchronously so concurrent requests keep their arrival order.
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const record: RecordedRequest = { endpoint, method: request.method, url: request.url, headers, body: "" };
    this.requests.push(record);
    this.#records.set(request, record);
    const fault = this.takeFault(endpoint);
    record.body = await request.clone().text();
    const normal = () => behaviour(request);
    return fault === undefined ? normal() : applyFault(fault, normal);
  }
}
