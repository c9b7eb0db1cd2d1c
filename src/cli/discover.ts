import { authorizationServerMetadataUrls, discoverAuthorizationServer } from "../discovery/authorization-server.js";
import { bearerChallenge, parseWwwAuthenticate } from "../discovery/challenge.js";
import { firstDocument } from "../discovery/documents.js";
import { metadataCandidates, validateResourceMetadata } from "../discovery/resource-metadata.js";
import { ClientCredentialsError } from "../errors.js";
import { createHttp, describe } from "../http.js";
import { DEFAULTS } from "../options.js";
import type { AuthorizationServerMetadata } from "../schemas.js";
import type { ClientCredentialsEvent } from "../types.js";
import { COMMON_OPTIONS, CREDENTIAL_OPTIONS, millis, parse, urlArgument } from "./args.js";
import { readCredentials } from "./credentials.js";
import type { Output } from "./output.js";
import { probe } from "./probe.js";
import { render } from "./report.js";
import { type Problem, type Verdict, verdict } from "./verdict.js";

export const DISCOVER_OPTIONS = { ...COMMON_OPTIONS, ...CREDENTIAL_OPTIONS, json: { type: "boolean" } } as const;

/** One metadata URL tried: its status, and why its document was refused, if it was. */
export interface Attempt {
  url: string;
  status?: number;
  ok: boolean;
  refused?: string;
}

/** Everything `discover` found, in the order it found it: what `--json` prints. */
export interface DiscoveryReport {
  url: string;
  probe: { status?: number; wwwAuthenticate?: string; resourceMetadata: string[]; scope?: string; error?: string };
  resourceMetadata: { tried: Attempt[]; used?: string; resource?: string; authorizationServers?: string[]; scopesSupported?: string[] };
  authorizationServer?: {
    issuer: string;
    tried: Attempt[];
    used?: string;
    tokenEndpoint?: string;
    authMethods?: string[];
    signingAlgs?: string[];
    grantTypes?: string[];
    /** Other issuers the resource lists; this client uses the first. */
    others?: string[];
  };
  /** The first failure, if the chain broke. */
  failure?: Problem;
  verdict: Verdict;
}

/** `discover <url>`: walks the discovery chain as the middleware does, and says what it means. */
export async function discover(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parse("discover", args, DISCOVER_OPTIONS, 1);
  const url = urlArgument("discover", positionals[0]);
  const credentials = readCredentials(values, output);
  const timeoutMs = millis(values, "timeout") ?? DEFAULTS.timeoutMs;
  const stop = output.spin(`discovering ${url.origin}`);
  let report: DiscoveryReport;
  try {
    report = await walk(url, { timeoutMs, allowInsecureRequests: values["allow-insecure-requests"] === true }, credentials);
  } finally {
    stop();
  }
  output.io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : render(report, output.paintStdout));
  return report.verdict.ok ? 0 : 1;
}

export async function walk(
  url: URL,
  options: { timeoutMs: number; allowInsecureRequests: boolean; fetch?: typeof fetch },
  credentials?: Parameters<typeof verdict>[1],
): Promise<DiscoveryReport> {
  const fetcher = options.fetch ?? fetch;
  const report: DiscoveryReport = {
    url: url.href,
    probe: { resourceMetadata: [] },
    resourceMetadata: { tried: [] },
    verdict: { ok: false, summary: "" },
  };
  // The verdict goes last, where a reader of --json looks for it.
  const finish = (failure?: Problem): DiscoveryReport => {
    const { verdict: _, ...found } = report;
    const done = { ...found, failure };
    return { ...done, verdict: verdict({ ...done, verdict: report.verdict }, credentials) };
  };

  try {
    const answer = await probe(url, fetcher, options.timeoutMs);
    report.probe.status = answer.status;
    if (answer.wwwAuthenticate) report.probe.wwwAuthenticate = answer.wwwAuthenticate.slice(0, 2000);
  } catch (error) {
    report.probe.error = describe(error);
    return finish({ code: "unreachable", message: `no answer from ${url.origin}: ${report.probe.error}` });
  }
  const challenge = report.probe.status === 401 ? bearerChallenge(parseWwwAuthenticate(report.probe.wwwAuthenticate)) : undefined;
  if (challenge) {
    report.probe.resourceMetadata = challenge.resourceMetadata;
    report.probe.scope = challenge.scope;
  }

  let attempts: Attempt[] = report.resourceMetadata.tried;
  const emit = (event: ClientCredentialsEvent) => {
    if (event.type !== "discovery") return;
    attempts.push({ url: event.url, status: event.status, ok: event.ok, refused: event.status === 200 && !event.ok ? "not a JSON document" : undefined });
  };
  const http = createHttp({
    fetch: fetcher,
    timeoutMs: options.timeoutMs,
    retries: 0,
    retryBudgetMs: 0,
    allowInsecureRequests: options.allowInsecureRequests,
    emit,
  });
  /** Marks the attempt for `url` as refused (its document was fetched, then rejected). */
  const refuse = (error: unknown) => {
    const last = attempts.at(-1);
    if (last) [last.ok, last.refused] = [false, reasonOf(error)];
    throw error;
  };

  let resource: Awaited<ReturnType<typeof validateResourceMetadata>>;
  const candidates = metadataCandidates(url, challenge?.resourceMetadata ?? []);
  try {
    resource = await firstDocument(
      http,
      candidates,
      "resource-metadata",
      emit,
      (json, metadataUrl) => validateResourceMetadata(json, metadataUrl, url, http).catch(refuse),
      (tried) => new ClientCredentialsError("discovery", `no protected resource metadata (tried ${tried})`, { code: "resource_metadata_not_found" }),
    );
  } catch (error) {
    listFailure(attempts, candidates, error);
    return finish(problemOf(error));
  }
  Object.assign(report.resourceMetadata, {
    used: resource.metadataUrl,
    resource: resource.resource,
    authorizationServers: resource.authorizationServers,
    scopesSupported: resource.scopesSupported,
  });

  const [issuer, ...others] = resource.authorizationServers as [string, ...string[]];
  const server: NonNullable<DiscoveryReport["authorizationServer"]> = { issuer, tried: [], others: others.length ? others : undefined };
  report.authorizationServer = server;
  attempts = server.tried;
  let metadata: AuthorizationServerMetadata & { token_endpoint: string };
  try {
    metadata = await discoverAuthorizationServer(http, issuer, emit);
  } catch (error) {
    // The library moves past a refused document to the next URL: every 200 of a failed walk was refused.
    for (const attempt of attempts) if (attempt.ok) [attempt.ok, attempt.refused] = [false, reasonOf(error)];
    listFailure(attempts, authorizationServerMetadataUrls(new URL(issuer)), error);
    return finish(problemOf(error));
  }
  Object.assign(server, {
    used: [...attempts].reverse().find((attempt) => attempt.ok)?.url,
    tokenEndpoint: metadata.token_endpoint,
    authMethods: metadata.token_endpoint_auth_methods_supported,
    signingAlgs: metadata.token_endpoint_auth_signing_alg_values_supported,
    grantTypes: metadata.grant_types_supported,
  });
  return finish();
}

function reasonOf(error: unknown): string {
  return error instanceof ClientCredentialsError ? error.message.replace(/^\[\w+\] /, "") : describe(error);
}

/** A candidate that failed before its document could be read (a redirect, a timeout, an oversized body) emits no event: list it, in its place. */
function listFailure(attempts: Attempt[], candidates: string[], error: unknown): void {
  const url = error instanceof ClientCredentialsError ? error.url : undefined;
  const at = url === undefined ? -1 : candidates.indexOf(url);
  if (at < 0 || attempts.some((attempt) => attempt.url === url)) return;
  const later = attempts.findIndex((attempt) => candidates.indexOf(attempt.url) > at);
  attempts.splice(later < 0 ? attempts.length : later, 0, { url: url!, status: (error as ClientCredentialsError).status, ok: false, refused: reasonOf(error) });
}

function problemOf(error: unknown): Problem {
  if (error instanceof ClientCredentialsError) return { code: error.code ?? "error", message: error.message.replace(/^\[\w+\] /, ""), status: error.status };
  return { code: "error", message: describe(error) };
}
