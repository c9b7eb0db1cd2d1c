// A stand-in for the GitHub Actions OIDC token endpoint, the URL a job with
// `permissions: id-token: write` finds in ACTIONS_ID_TOKEN_REQUEST_URL. Like the real one: a GET
// with `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, the audience as an `audience`
// query parameter appended to a URL that already has a query (`?api-version=2.0`), and the
// answer `{ "value": "<jwt>" }`. Without `audience` the token is for the repository owner's URL,
// as on GitHub. The JWTs are signed by a loopback workload issuer (GitHub's would be
// https://token.actions.githubusercontent.com) with the claims GitHub puts in them.
//
//   const actions = await start();
//   env: ACTIONS_ID_TOKEN_REQUEST_URL=actions.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN=actions.requestToken
//   trust actions.issuer.issuer with subject actions.subject
import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import { closer, listen } from "./listen.mjs";
import { start as startIssuer } from "./workload-issuer.mjs";

/**
 * @param {object} [options]
 * @param {string} [options.repository] "owner/name", default "octo-org/octo-repo"
 * @param {string} [options.ref] default "refs/heads/main"
 * @param {number} [options.lifetime] seconds until a minted token's `exp`, default 300; settable later
 */
export async function start({ host = "127.0.0.1", port = 0, repository = "octo-org/octo-repo", ref = "refs/heads/main", lifetime = 300 } = {}) {
  const issuer = await startIssuer({ host });
  const [owner] = repository.split("/");
  const requestToken = randomBytes(32).toString("base64url");
  const subject = `repo:${repository}:ref:${ref}`;
  const path = `/_apis/distributedtask/hubs/Build/plans/${randomUUID()}/jobs/${randomUUID()}/idtoken`;
  /** Each request: the audience asked for (null when absent) and whether the bearer was right. Never a token. */
  const requests = [];
  /** The JWTs handed out, kept out of `requests` so that a logged request never shows one. */
  const issued = [];
  const runId = String(Date.now());

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const authorized = req.headers.authorization === `Bearer ${requestToken}`;
    const audience = url.searchParams.get("audience");
    const json = (status, body) => res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
    if (url.pathname !== path) return json(404, { message: "Not Found" });
    requests.push({ method: req.method, audience, authorized, apiVersion: url.searchParams.get("api-version") });
    if (req.method !== "GET") return json(405, { message: "Method Not Allowed" });
    if (!authorized) return json(401, { message: "Unauthorized: the request token is missing, invalid or expired" });
    // A client that put `?audience=` after the existing query would land here without the api version.
    if (url.searchParams.get("api-version") !== "2.0") return json(400, { message: "api-version 2.0 is required" });
    try {
      const value = await issuer.mint({
        sub: subject,
        aud: audience ?? `https://github.com/${owner}`,
        expiresIn: self.lifetime,
        claims: {
          ref,
          ref_type: ref.startsWith("refs/tags/") ? "tag" : "branch",
          sha: randomBytes(20).toString("hex"),
          repository,
          repository_owner: owner,
          repository_visibility: "private",
          actor: "octocat",
          workflow: "mcp",
          workflow_ref: `${repository}/.github/workflows/mcp.yml@${ref}`,
          job_workflow_ref: `${repository}/.github/workflows/mcp.yml@${ref}`,
          event_name: "push",
          run_id: runId,
          run_number: "1",
          run_attempt: "1",
          runner_environment: "github-hosted",
        },
      });
      issued.push(value);
      json(200, { count: value.length, value });
    } catch {
      json(500, { message: "could not mint" });
    }
  });
  const origin = `http://${host}:${await listen(server, port, host)}`;
  const close = closer(server);
  const self = {
    /** What ACTIONS_ID_TOKEN_REQUEST_URL holds. */
    url: `${origin}${path}?api-version=2.0`,
    /** What ACTIONS_ID_TOKEN_REQUEST_TOKEN holds. */
    requestToken,
    /** The workload issuer signing the JWTs: trust `issuer.issuer`. */
    issuer,
    subject,
    defaultAudience: `https://github.com/${owner}`,
    lifetime,
    requests,
    /** Every JWT handed out, oldest first: for checks that one never shows up where it must not. */
    issued: () => [...issued],
    async close() {
      await close();
      await issuer.close();
    },
  };
  return self;
}
