/** One challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1). */
export interface Challenge {
  /** Lower-cased auth-scheme. */
  scheme: string;
  token68?: string;
  /** Lower-cased parameter names; every value in header order (parameters may repeat). */
  params: Record<string, string[]>;
}

/** What a client-credentials client needs from a resource server's Bearer challenge. */
export interface BearerChallenge {
  /** Every `resource_metadata` value, in header order: try them in turn. */
  resourceMetadata: string[];
  scope?: string;
  error?: string;
  errorDescription?: string;
}

const MAX_HEADER_LENGTH = 16 * 1024;
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y;
const TOKEN68_END = /[ \t]*(?:,|$)/y;

/**
 * Parses a `WWW-Authenticate` value into its challenges, per the RFC 9110 grammar:
 * `#challenge`, `challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`,
 * `auth-param = token BWS "=" BWS ( token / quoted-string )`. Lenient with malformed input:
 * a bad element is skipped up to the next comma, never thrown on.
 */
export function parseWwwAuthenticate(header: string | null | undefined): Challenge[] {
  if (!header) return [];
  const input = header.length > MAX_HEADER_LENGTH ? header.slice(0, MAX_HEADER_LENGTH) : header;
  const challenges: Challenge[] = [];
  let current: Challenge | undefined;
  let i = 0;

  const skipWhitespace = () => {
    while (i < input.length && (input[i] === " " || input[i] === "\t")) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < input.length && TCHAR.test(input[i]!)) i++;
    return input.slice(start, i);
  };
  // Grammar says `token`; servers send bare URLs too, so take everything up to a delimiter.
  const readBare = () => {
    const start = i;
    while (i < input.length && input[i] !== "," && input[i] !== " " && input[i] !== "\t") i++;
    return input.slice(start, i);
  };
  const skipToComma = () => {
    while (i < input.length && input[i] !== ",") {
      if (input[i] === '"') readQuoted();
      else i++;
    }
  };
  const readQuoted = () => {
    let value = "";
    i++; // opening quote
    while (i < input.length && input[i] !== '"') {
      if (input[i] === "\\" && i + 1 < input.length) i++;
      value += input[i];
      i++;
    }
    i++; // closing quote (or end of input)
    return value;
  };

  while (i < input.length) {
    while (i < input.length && (input[i] === "," || input[i] === " " || input[i] === "\t")) i++;
    if (i >= input.length) break;

    const start = i;
    const name = readToken();
    if (!name) {
      skipToComma();
      continue;
    }
    const afterName = i;
    skipWhitespace();

    if (current && input[i] === "=") {
      // auth-param of the current challenge
      i++;
      skipWhitespace();
      const value = input[i] === '"' ? readQuoted() : readBare();
      const key = name.toLowerCase();
      const values = current.params[key] ?? [];
      values.push(value);
      current.params[key] = values;
      skipWhitespace();
      if (i < input.length && input[i] !== ",") skipToComma();
      continue;
    }

    // A new challenge: the token was its scheme.
    i = afterName;
    if (i < input.length && input[i] !== " " && input[i] !== "\t" && input[i] !== ",") {
      // `scheme=…` with no challenge before it, or garbage glued to the scheme.
      i = start;
      skipToComma();
      continue;
    }
    // No prototype: a parameter named `__proto__` or `constructor` is just a parameter.
    current = { scheme: name.toLowerCase(), params: Object.create(null) as Record<string, string[]> };
    challenges.push(current);
    skipWhitespace();
    TOKEN68.lastIndex = i;
    const token68 = TOKEN68.exec(input)?.[0];
    if (token68) {
      TOKEN68_END.lastIndex = i + token68.length;
      if (TOKEN68_END.test(input)) {
        current.token68 = token68;
        i += token68.length;
      }
    }
  }
  return challenges;
}

/**
 * Collects what the Bearer challenges say; `undefined` when there is none. `schemes` (lower case)
 * widens what counts: a DPoP client reads `DPoP` challenges too (RFC 9449 §7.1).
 */
export function bearerChallenge(challenges: Challenge[], schemes: readonly string[] = ["bearer"]): BearerChallenge | undefined {
  const bearers = challenges.filter((challenge) => schemes.includes(challenge.scheme));
  if (bearers.length === 0) return undefined;
  const all = (name: string) => bearers.flatMap((challenge) => challenge.params[name] ?? []);
  const first = (name: string) => all(name).find((value) => value !== "");
  const result: BearerChallenge = { resourceMetadata: [...new Set(all("resource_metadata").filter(Boolean))] };
  const scope = first("scope");
  const error = first("error");
  const errorDescription = first("error_description");
  if (scope !== undefined) result.scope = scope;
  if (error !== undefined) result.error = error;
  if (errorDescription !== undefined) result.errorDescription = errorDescription;
  return result;
}
