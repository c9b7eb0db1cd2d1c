import { sanitize } from "../errors.js";
import type { Attempt, DiscoveryReport } from "./discover.js";
import type { Paint } from "./output.js";

/** Server text on a terminal: control characters out, so no escape sequence of its own gets through. */
const clean = (text: string) => sanitize(text, 2000);

/** The discovery chain for people: what was asked, what answered, and the verdict last. */
export function render(report: DiscoveryReport, paint: Paint): string {
  const lines: string[] = [];
  const heading = (text: string) => lines.push("", paint("bold", text));
  const field = (name: string, value: string | string[] | undefined) => {
    if (value === undefined) return;
    lines.push(`  ${name.padEnd(22)}${Array.isArray(value) ? value.map(clean).join(", ") || "(none)" : clean(value)}`);
  };
  const attempts = (tried: Attempt[]) => {
    for (const attempt of tried) {
      const mark = attempt.ok ? paint("green", "✓") : paint("red", "✗");
      lines.push(
        `  ${mark} ${clean(attempt.url)} → ${attempt.status ?? "no answer"}${attempt.refused ? paint("red", `  refused: ${clean(attempt.refused)}`) : ""}`,
      );
    }
  };

  lines.push(paint("bold", `MCP server ${clean(report.url)}`));
  const { probe } = report;
  lines.push(`  POST without a token → ${probe.status ?? paint("red", `no answer (${clean(probe.error ?? "")})`)}`);
  if (probe.wwwAuthenticate) field("WWW-Authenticate", probe.wwwAuthenticate);
  if (probe.status === 401 && !probe.wwwAuthenticate) lines.push(paint("yellow", "  (no WWW-Authenticate header)"));

  const resource = report.resourceMetadata;
  if (resource.tried.length) {
    heading("Protected resource metadata (RFC 9728)");
    attempts(resource.tried);
    field("resource", resource.resource);
    field("authorization servers", resource.authorizationServers);
    field("scopes", resource.scopesSupported);
  }
  const server = report.authorizationServer;
  if (server) {
    heading(`Authorization server metadata (issuer ${clean(server.issuer)})`);
    attempts(server.tried);
    field("token endpoint", server.tokenEndpoint);
    if (server.tokenEndpoint) {
      field("auth methods", server.authMethods ?? "(not listed: client_secret_basic)");
      field("signing algorithms", server.signingAlgs ?? "(not listed)");
      field("grant types", server.grantTypes ?? "(not listed)");
    }
    if (server.others) field("also listed", server.others);
  }

  const { verdict } = report;
  heading("Verdict");
  lines.push(`  ${verdict.ok ? paint("green", "✓") : paint("red", "✗")} ${clean(verdict.summary)}`);
  for (const option of verdict.options ?? []) lines.push(`    ${clean(option)}`);
  for (const warning of verdict.warnings ?? []) lines.push(`  ${paint("yellow", "!")} ${clean(warning)}`);
  if (verdict.fix) lines.push(`  ${paint("bold", "Fix:")} ${clean(verdict.fix)}`);
  return `${lines.join("\n")}\n`;
}
