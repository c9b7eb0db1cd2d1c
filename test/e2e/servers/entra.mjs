// A stand-in for Microsoft Entra ID's v2 token endpoint as workload identity federation uses it:
// an app registration holds federated identity credentials `{ issuer, subject, audiences }`, and a
// workload proves who it is with a platform JWT as the client assertion of a client_credentials
// request (RFC 7523 §2.2), `client_id` in the body, `scope=<resource>/.default`, no `resource`.
// Like Entra it trusts an assertion only when a credential matches its `iss`, `sub` (exactly,
// case included) and one `aud`, and only after checking its signature with the keys the issuer
// publishes (OIDC discovery, then the JWKS). Errors have Entra's shape: an AADSTS code in
// `error_description` and `error_codes`. Access tokens are JWTs signed with its own key.
//
//   const entra = await start();
//   const app = entra.addApplication({ federatedCredentials: [{ issuer: idp.issuer, subject: "system:serviceaccount:agents:mcp" }] });
//   const mcp = await mcpServer.start({ issuer: entra.issuer, requiredScopes: [] });
//   entra.addResource("api://mcp-server", { audience: mcp.resource, roles: ["MCP.Tools"] });
import { randomUUID } from "node:crypto";
import http from "node:http";
import * as jose from "jose";
import { issuerKeys } from "./issuer-keys.mjs";
import { closer, listen } from "./listen.mjs";

/** What Kubernetes and GitHub tokens for Entra are minted for; Entra's default for a new credential. */
export const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";
const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const CHECK =
  "Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

/**
 * @param {object} [options]
 * @param {string} [options.tenant] default a random GUID
 * @param {number} [options.lifetime] access token lifetime in seconds, default 3599
 */
export async function start({ host = "127.0.0.1", port = 0, tenant = randomUUID(), lifetime = 3599 } = {}) {
  const { privateKey, publicKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  const applications = new Map();
  const resources = new Map();
  /** Remote key sets of the federated issuers, fetched only for issuers a credential names. */
  const keysOf = issuerKeys();
  /**
   * Each token request: what was asked and what came of it. The assertion's claims as presented
   * (they name a workload, nothing secret), never the assertion or a token.
   */
  const requests = [];

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const json = (status, body) =>
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" }).end(JSON.stringify(body));
    if (req.method === "GET" && url.pathname === `/${tenant}/v2.0/.well-known/openid-configuration`) return json(200, metadata());
    if (req.method === "GET" && url.pathname === `/${tenant}/discovery/v2.0/keys`) return json(200, { keys: [publicJwk] });
    if (url.pathname !== `/${tenant}/oauth2/v2.0/token`) return json(404, { error: "not_found" });
    if (req.method !== "POST") return json(405, failure("invalid_request", 900561, "The endpoint only accepts POST requests.").body);
    let body = "";
    for await (const chunk of req) body += chunk;
    const entry = { at: Date.now(), params: [], verified: false };
    requests.push(entry);
    const { status, body: answer } = await token(new URLSearchParams(body), entry).catch(() =>
      failure("server_error", 50000, "There was an error issuing a token."),
    );
    entry.status = status;
    if (answer.error) {
      entry.error = answer.error;
      entry.aadsts = answer.error_codes[0];
    }
    json(status, answer);
  });
  const origin = `http://${host}:${await listen(server, port, host)}`;
  const issuer = `${origin}/${tenant}/v2.0`;
  const tokenEndpoint = `${origin}/${tenant}/oauth2/v2.0/token`;
  const jwksUri = `${origin}/${tenant}/discovery/v2.0/keys`;

  function metadata() {
    return {
      issuer,
      token_endpoint: tokenEndpoint,
      jwks_uri: jwksUri,
      authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["ES256"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      tenant_region_scope: "EU",
    };
  }

  /** Entra's error shape; the status is 401 for a client that could not be authenticated. */
  function failure(error, code, text) {
    const timestamp = new Date()
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d+Z$/, "Z");
    const [traceId, correlationId] = [randomUUID(), randomUUID()];
    return {
      status: error === "invalid_client" ? 401 : 400,
      body: {
        error,
        error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `${origin}/error?code=${code}`,
      },
    };
  }

  async function token(params, entry) {
    entry.params = [...new Set(params.keys())].sort();
    entry.clientId = params.get("client_id") ?? undefined;
    entry.grantType = params.get("grant_type") ?? undefined;
    entry.scope = params.get("scope") ?? undefined;
    entry.resource = params.get("resource") ?? undefined;
    if (entry.params.some((name) => params.getAll(name).length > 1))
      return failure("invalid_request", 90015, "Requested query string is too long or has duplicate parameters.");
    if (entry.grantType !== "client_credentials")
      return failure("unsupported_grant_type", 70003, `The app requested an unsupported grant type '${entry.grantType}'.`);
    if (!entry.clientId) return failure("invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.");
    // The v2 endpoint takes the resource from the scope; a `resource` parameter is refused.
    if (entry.resource !== undefined) {
      const fromScope = entry.scope?.replace(/\/\.default$/, "");
      if (fromScope !== undefined && fromScope !== entry.resource)
        return failure("invalid_request", 9010010, "The resource parameter provided in the request doesn't match with the requested scopes.");
      return failure("invalid_request", 901002, "The 'resource' request parameter is not supported.");
    }
    const scopes = (entry.scope ?? "").split(" ").filter(Boolean);
    if (scopes.length !== 1 || !scopes[0].endsWith("/.default"))
      return failure(
        "invalid_scope",
        1002012,
        `The provided value for scope ${entry.scope ?? ""} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    const app = applications.get(entry.clientId);
    if (!app) return failure("unauthorized_client", 700016, `Application with identifier '${entry.clientId}' was not found in the directory '${tenant}'.`);
    const assertion = params.get("client_assertion");
    if (params.has("client_secret")) return failure("invalid_client", 7000215, "Invalid client secret provided.");
    if (!assertion) return failure("invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    if (params.get("client_assertion_type") !== CLIENT_ASSERTION_TYPE)
      return failure("invalid_request", 50027, `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}.`);
    let claims;
    try {
      claims = jose.decodeJwt(assertion);
    } catch {
      return failure("invalid_request", 50027, "JWT token is invalid or malformed.");
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    entry.assertion = { issuer: claims.iss, subject: claims.sub, audience: claims.aud };
    const byIssuer = app.federatedCredentials.filter((credential) => credential.issuer === claims.iss);
    if (byIssuer.length === 0)
      return failure("invalid_client", 700211, `No matching federated identity record found for presented assertion issuer '${claims.iss}'. ${CHECK}`);
    try {
      await jose.jwtVerify(assertion, await keysOf(claims.iss), { issuer: claims.iss, requiredClaims: ["exp", "sub", "aud"] });
    } catch (error) {
      if (error?.code === "ERR_JWT_EXPIRED") return failure("invalid_client", 700024, "Client assertion is not within its valid time range.");
      return failure("invalid_client", 700027, "Client assertion failed signature validation.");
    }
    entry.verified = true;
    const bySubject = byIssuer.filter((credential) => credential.subject === claims.sub);
    if (bySubject.length === 0)
      return failure("invalid_client", 700213, `No matching federated identity record found for presented assertion subject '${claims.sub}'. ${CHECK}`);
    const credential = bySubject.find((candidate) => candidate.audiences.some((audience) => audiences.includes(audience)));
    if (!credential)
      return failure(
        "invalid_client",
        700212,
        `No matching federated identity record found for presented assertion audience '${audiences.join(", ")}'. ${CHECK}`,
      );
    entry.credential = credential.name;
    const resourceId = scopes[0].slice(0, -"/.default".length);
    const resource = resources.get(resourceId);
    if (!resource) return failure("invalid_resource", 500011, `The resource principal named ${resourceId} was not found in the tenant named ${tenant}.`);
    const now = Math.floor(Date.now() / 1000);
    const accessToken = await new jose.SignJWT({
      azp: app.clientId,
      azpacr: "2",
      oid: app.objectId,
      roles: resource.roles,
      tid: tenant,
      uti: randomUUID(),
      ver: "2.0",
      idtyp: "app",
    })
      // Entra writes typ "JWT"; the MCP server under test insists on RFC 9068's at+jwt.
      .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt" })
      .setIssuer(issuer)
      .setAudience(resource.audience)
      .setSubject(app.objectId)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetime)
      .sign(privateKey);
    return { status: 200, body: { token_type: "Bearer", expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken } };
  }

  return {
    origin,
    tenant,
    /** What AZURE_AUTHORITY_HOST holds (Entra's is https://login.microsoftonline.com/). */
    authorityHost: `${origin}/`,
    issuer,
    tokenEndpoint,
    jwksUri,
    metadataUrl: `${issuer}/.well-known/openid-configuration`,
    requests,
    /** An app registration; `audiences` of each credential default to api://AzureADTokenExchange. */
    addApplication({ clientId = randomUUID(), federatedCredentials = [] } = {}) {
      const app = {
        clientId,
        objectId: randomUUID(),
        federatedCredentials: federatedCredentials.map(({ issuer: iss, subject, audiences = [TOKEN_EXCHANGE_AUDIENCE], name }, i) => ({
          name: name ?? `credential-${i + 1}`,
          issuer: iss,
          subject,
          audiences,
        })),
      };
      applications.set(clientId, app);
      return { clientId: app.clientId, objectId: app.objectId };
    },
    /** An API others may get tokens for: `<applicationIdUri>/.default`; tokens carry `aud: audience`. */
    addResource(applicationIdUri, { audience = applicationIdUri, roles = [] } = {}) {
      resources.set(applicationIdUri, { audience, roles });
    },
    close: closer(server),
  };
}
