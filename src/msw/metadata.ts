/**
 * Protected resource metadata (RFC 9728) and authorization server metadata (RFC 8414 / OIDC).
 * @internal
 */
import { type HttpHandler, HttpResponse, http } from "msw";
import { urlKey } from "./options.js";
import type { MockState } from "./state.js";

/** The PRM document: generated fields, then `resourceMetadata` merged over them. */
export function resourceMetadataDocument(state: MockState): Record<string, unknown> {
  const { config } = state;
  return {
    resource: config.resource,
    authorization_servers: [config.issuer],
    scopes_supported: [...config.scopesSupported],
    bearer_methods_supported: ["header"],
    // RFC 9728 §2: which proof algorithms the resource accepts, and whether it wants bound tokens only.
    ...(config.dpop ? { dpop_signing_alg_values_supported: [...config.dpop.algorithms], dpop_bound_access_tokens_required: config.dpop.required } : {}),
    ...config.resourceMetadata,
  };
}

/** The AS metadata document: generated fields (null options omitted), then the overrides. */
export function authorizationServerMetadataDocument(state: MockState): Record<string, unknown> {
  const { config } = state;
  const doc: Record<string, unknown> = {
    issuer: config.issuer,
    token_endpoint: config.tokenEndpoint,
  };
  if (config.authMethodsSupported !== null) {
    doc.token_endpoint_auth_methods_supported = [...config.authMethodsSupported];
  }
  if (config.signingAlgsSupported !== null) {
    doc.token_endpoint_auth_signing_alg_values_supported = [...config.signingAlgsSupported];
  }
  if (config.grantTypesSupported !== null) doc.grant_types_supported = [...config.grantTypesSupported];
  doc.scopes_supported = [...config.scopesSupported];
  if (config.dpop) doc.dpop_signing_alg_values_supported = [...config.dpop.algorithms]; // RFC 9449 §5.1
  doc.response_types_supported = [];
  return { ...doc, ...config.authorizationServerMetadata };
}

/** GET handlers for the enabled PRM locations and AS metadata forms. */
export function metadataHandlers(state: MockState): HttpHandler[] {
  const { config } = state;
  return [
    http.get(
      ({ request }) => config.prmKeys.has(urlKey(request.url)),
      ({ request }) => state.handle("resource-metadata", request, async () => HttpResponse.json(resourceMetadataDocument(state))),
    ),
    http.get(
      ({ request }) => config.asMetadataKeys.has(urlKey(request.url)),
      ({ request }) => state.handle("authorization-server-metadata", request, async () => HttpResponse.json(authorizationServerMetadataDocument(state))),
    ),
  ];
}
