/**
 * The JWT-bearer grant at the mock token endpoint (RFC 7523 §2.1, §3): the platform JWT is
 * verified against the workload's keys, issuer, subject, the accepted audiences and its expiry.
 * @internal
 */
import { decodeJwt } from "jose";
import { verifyJwt } from "./client-auth.js";
import { oauthErrorResponse } from "./faults.js";
import type { ResolvedWorkload } from "./options.js";
import type { MockState } from "./state.js";

export type GrantResult = { ok: true; workload: ResolvedWorkload; subject: string } | { ok: false; response: Response };

const invalidGrant = (description: string): GrantResult => ({ ok: false, response: oauthErrorResponse("invalid_grant", description) });

export async function verifyJwtBearer(state: MockState, params: URLSearchParams, authorization: string | null): Promise<GrantResult> {
  const assertion = params.get("assertion");
  if (!assertion) return { ok: false, response: oauthErrorResponse("invalid_request", "assertion is missing") };
  if (params.has("client_secret") || params.has("client_assertion") || authorization !== null) {
    return { ok: false, response: oauthErrorResponse("invalid_request", "the JWT-bearer grant takes no client authentication here") };
  }
  let issuer: unknown;
  try {
    issuer = decodeJwt(assertion).iss;
  } catch {
    return invalidGrant("the assertion is not a JWT");
  }
  const workload = state.config.workloads.find((candidate) => candidate.issuer === issuer);
  if (workload === undefined) return invalidGrant("the assertion's issuer is not trusted");
  try {
    // The client assertions' verifier: a platform's keys without `kid` are tried one by one too.
    const payload = await verifyJwt(assertion, workload.jwks, {
      issuer: workload.issuer,
      audience: state.config.assertionAudiences,
      requiredClaims: ["exp", "sub"],
      ...(workload.subject === undefined ? {} : { subject: workload.subject }),
    });
    return { ok: true, workload, subject: payload.sub as string };
  } catch (error) {
    // jose's messages name the claim that failed, never the token.
    return invalidGrant(`the assertion was rejected: ${error instanceof Error ? error.message : "invalid"}`);
  }
}
