import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bearerChallenge, type Challenge, parseWwwAuthenticate } from "../../src/discovery/challenge.js";
import { anyCodeUnit, propertyTimeout, settings, stringFrom } from "./arbitraries.js";

const MAX_HEADER = 16 * 1024;
const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const LOWER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Names that are Object.prototype members: a parser keeping params in a plain object trips on them. */
const PROTOTYPE_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];

// ---- a serializer for RFC 9110 §11.6.1, written here so the parser is checked against the grammar, not itself

interface Param {
  name: string;
  value: string;
  /** Sent as a token when the value is one; quoted otherwise (both must parse the same). */
  asToken: boolean;
  bws: [string, string];
}
interface Model {
  scheme: string;
  spaces: string;
  token68?: string;
  params: readonly Param[];
}

const quote = (value: string) => `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
const serializeParam = ({ name, value, asToken, bws }: Param) => `${name}${bws[0]}=${bws[1]}${asToken && TOKEN.test(value) ? value : quote(value)}`;

function serializeChallenge(model: Model, separator: string): string {
  if (model.token68 !== undefined) return `${model.scheme}${model.spaces}${model.token68}`;
  if (model.params.length === 0) return model.scheme;
  return `${model.scheme}${model.spaces}${model.params.map(serializeParam).join(separator)}`;
}

const serialize = (models: Model[], separators: string[]) =>
  models.map((model, i) => serializeChallenge(model, separators[i % separators.length]!)).join(separators[0]!);

/** What the parser must return for a model: lower-cased names, values grouped in header order. */
function expected(models: Model[]) {
  return models.map((model) => {
    const params = new Map<string, string[]>();
    for (const { name, value } of model.params) params.set(name.toLowerCase(), [...(params.get(name.toLowerCase()) ?? []), value]);
    return { scheme: model.scheme.toLowerCase(), token68: model.token68 ?? null, params: [...params].sort(byName) };
  });
}

const byName = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Own keys only: a value hidden on a prototype (or lost to one) shows up as a difference. */
const canonical = (challenges: Challenge[]) =>
  challenges.map((c) => ({
    scheme: c.scheme,
    token68: c.token68 ?? null,
    params: Object.getOwnPropertyNames(c.params)
      .map((name): [string, string[]] => [name, c.params[name]!])
      .sort(byName),
  }));

// ---- generators

const token = (maxLength = 12) => fc.oneof(fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength }), fc.constantFrom(...PROTOTYPE_NAMES));
/** Any mix of case, so lower-casing is exercised. */
const mixedCase = (arb: fc.Arbitrary<string>) =>
  fc.tuple(arb, fc.nat()).map(([s, mask]) => [...s].map((c, i) => ((mask >>> (i % 31)) & 1 ? c.toUpperCase() : c.toLowerCase())).join(""));
/** qdtext / quoted-pair content: HTAB, SP, VCHAR, obs-text. */
const quotable = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 }) },
  { weight: 1, arbitrary: stringFrom(['"', "\\", "\t", ",", "=", " ", '\\"', "é", "\u00ff", "\u0080"], fc.string({ maxLength: 5 })) },
  { weight: 1, arbitrary: token(20) },
);
const bws = fc.constantFrom("", " ", "\t", "  ", " \t");
const param = fc.record({ name: mixedCase(token()), value: quotable, asToken: fc.boolean(), bws: fc.tuple(bws, bws) });
const spaces = fc.constantFrom(" ", "  ", "   ");
const token68 = fc
  .tuple(fc.string({ unit: fc.constantFrom(..."ABCXYZabcxyz0189-._~+/"), minLength: 1, maxLength: 24 }), fc.constantFrom("", "=", "=="))
  .map(([body, pad]) => body + pad);
const challenge: fc.Arbitrary<Model> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ scheme: mixedCase(token()), spaces, params: fc.array(param, { maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ scheme: mixedCase(token()), spaces, token68, params: fc.constant([]) }) },
);
/** `OWS "," OWS`, with the empty list elements RFC 9110 §5.6.1 tells recipients to accept. */
const separators = fc.array(fc.constantFrom(", ", ",", " , ", ",\t", ", , ", ",,", " ,  "), { minLength: 1, maxLength: 3 });

describe("parseWwwAuthenticate never throws and returns well-formed challenges", () => {
  const pieces = ["Bearer", "Basic", "DPoP", " ", "\t", ",", "=", "==", '"', "\\", '\\"', "resource_metadata", "realm=", ...PROTOTYPE_NAMES];
  const any = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: anyCodeUnit, maxLength: 200 }) },
    { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
    {
      weight: 3,
      arbitrary: stringFrom([...pieces, "\u0000", "\r\n", "\u007f", "é", "🔑", "\ud800", "\udfff"], fc.string({ unit: anyCodeUnit, maxLength: 8 }), 40),
    },
    // Far past the 16 KiB cap, mostly unbalanced quotes and endless parameters.
    {
      weight: 1,
      arbitrary: fc
        .tuple(stringFrom(pieces, fc.string({ maxLength: 8 }), 12), fc.integer({ min: 1, max: 4000 }))
        .map(([unit, times]) => `Bearer ${unit.repeat(times)}`.padEnd(MAX_HEADER + 1, '"')),
    },
  );

  it(
    "for any string: lower-case token schemes, token68 or params whose values are string arrays, bounded by the cap",
    () => {
      fc.assert(
        fc.property(any, (header) => {
          const challenges = parseWwwAuthenticate(header);
          expect(Array.isArray(challenges)).toBe(true);
          let size = 0;
          for (const c of challenges) {
            expect(c.scheme).toMatch(LOWER_TOKEN);
            if (c.token68 !== undefined) expect(c.token68).toMatch(TOKEN68);
            for (const name of Object.getOwnPropertyNames(c.params)) {
              expect(name).toMatch(LOWER_TOKEN);
              const values = c.params[name];
              expect(Array.isArray(values) && values.length > 0 && values.every((v) => typeof v === "string")).toBe(true);
              size += name.length + values!.join("").length;
            }
            size += c.scheme.length;
          }
          // Everything returned comes from the first 16 KiB: a huge header costs no more than that.
          expect(size).toBeLessThanOrEqual(MAX_HEADER);
          const bearer = bearerChallenge(challenges);
          if (bearer) expect(bearer.resourceMetadata.every((url) => typeof url === "string" && url !== "")).toBe(true);
        }),
        settings,
      );
    },
    propertyTimeout,
  );

  it.each(PROTOTYPE_NAMES)("a parameter named %s is an ordinary parameter", (name) => {
    const [c] = parseWwwAuthenticate(`Bearer ${name}="x", realm=y`);
    expect(Object.getOwnPropertyNames(c!.params).sort()).toEqual([name.toLowerCase(), "realm"].sort());
    expect(c!.params[name.toLowerCase()]).toEqual(["x"]);
  });
});

describe("parseWwwAuthenticate(serialize(challenges)) gives the challenges back", () => {
  it(
    "for any challenges built by the RFC 9110 grammar",
    () => {
      fc.assert(
        fc.property(fc.array(challenge, { minLength: 1, maxLength: 4 }), separators, (models, seps) => {
          const header = serialize(models, seps);
          expect(header.length).toBeLessThan(MAX_HEADER);
          expect(canonical(parseWwwAuthenticate(header))).toEqual(expected(models));
        }),
        settings,
      );
    },
    propertyTimeout,
  );

  it("the serializer is the grammar's, not the parser's (fixed examples)", () => {
    const model: Model = {
      scheme: "Bearer",
      spaces: " ",
      params: [
        { name: "Realm", value: 'a "b" \\c', asToken: false, bws: ["", ""] },
        { name: "scope", value: "mcp:read", asToken: true, bws: [" ", "\t"] },
      ],
    };
    expect(serialize([model, { scheme: "Basic", spaces: " ", token68: "dXNlcg==", params: [] }], [", "])).toBe(
      'Bearer Realm="a \\"b\\" \\\\c", scope =\t"mcp:read", Basic dXNlcg==',
    );
  });
});

describe("bearerChallenge finds what the server put into its Bearer challenge", () => {
  const value = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 });
  const url = fc.webUrl({ withQueryParameters: true, withFragments: true });
  const others: fc.Arbitrary<Model[]> = fc.array(
    fc.oneof(
      fc.record({
        scheme: mixedCase(fc.constant("DPoP")),
        spaces,
        params: fc.constant([{ name: "algs", value: "ES256 PS256", asToken: false, bws: ["", ""] as [string, string] }]),
      }),
      fc.record({
        scheme: mixedCase(fc.constant("Basic")),
        spaces,
        params: value.map((realm) => [{ name: "realm", value: realm, asToken: false, bws: ["", ""] as [string, string] }]),
      }),
      // Decoys: the same parameter names under other schemes must not be read as Bearer's.
      fc.record({
        scheme: mixedCase(fc.constantFrom("Newauth", "DPoP", "Negotiate")),
        spaces,
        params: fc.constant(
          ["resource_metadata", "scope", "error"].map((name) => ({ name, value: `decoy-${name}`, asToken: true, bws: ["", ""] as [string, string] })),
        ),
      }),
      fc.record({ scheme: fc.constantFrom("Negotiate", "Basic"), spaces, token68, params: fc.constant([]) }),
    ),
    { maxLength: 4 },
  );

  it(
    "resource_metadata, scope and error, wherever the Bearer challenge stands",
    () => {
      fc.assert(
        fc.property(
          others,
          fc.nat(),
          mixedCase(fc.constant("Bearer")),
          fc.record({ resource_metadata: url, scope: value, error: token(20) }),
          fc.shuffledSubarray(["resource_metadata", "scope", "error"] as const, { minLength: 3 }),
          fc.boolean(),
          separators,
          (rest, at, scheme, values, order, asToken, seps) => {
            const params = order.map((name) => ({ name, value: values[name], asToken, bws: ["", ""] as [string, string] }));
            const models = [...rest];
            models.splice(at % (rest.length + 1), 0, { scheme, spaces: " ", params });
            const found = bearerChallenge(parseWwwAuthenticate(serialize(models, seps)));
            expect(found).toEqual({ resourceMetadata: [values.resource_metadata], scope: values.scope, error: values.error });
          },
        ),
        settings,
      );
    },
    propertyTimeout,
  );

  it(
    "a bare (unquoted) resource_metadata URL after other schemes",
    () => {
      fc.assert(
        fc.property(fc.webUrl({ withQueryParameters: true }), others, (target, rest) => {
          fc.pre(!/[\s,"]/.test(target));
          const header = `${serialize(rest, [", "])}${rest.length ? ", " : ""}Bearer resource_metadata=${target}, scope="a b"`;
          expect(bearerChallenge(parseWwwAuthenticate(header))).toEqual({ resourceMetadata: [target], scope: "a b" });
        }),
        settings,
      );
    },
    propertyTimeout,
  );
});
