import fc from "fast-check";

/**
 * One seed and one run count for every property in this folder, so a CI failure replays exactly:
 * `FC_SEED=<seed> npx vitest run test/properties`. fc.assert prints the seed, the path and the
 * shrunk counterexample when a property fails.
 */
export const SEED = Number(process.env.FC_SEED || 1046_2026);
export const RUNS = Number(process.env.FC_RUNS || 2000);

export const settings = { seed: SEED, numRuns: RUNS };
/** A whole middleware (and its token request) per case; cheap enough here to keep every run. */
export const middlewareSettings = { seed: SEED, numRuns: RUNS };
/** Full token requests through the MSW kit, which really verifies the credentials: ~10× dearer. */
export const endToEndSettings = { seed: SEED, numRuns: Math.max(1, Math.ceil(RUNS / 4)) };

/** Per-test time limit for the dearer properties: a bound only a hang could reach, scaled with FC_RUNS. */
export const propertyTimeout = Math.max(15_000, RUNS * 25);

/** For checks that the generators reach every attack family: enough draws whatever FC_RUNS says. */
export const sampleSettings = { seed: SEED, numRuns: Math.max(RUNS, 2000) };

/** Any UTF-16 code unit, lone surrogates included: what a hostile header or URL may hold. */
export const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

/** Strings built from a few fixed pieces and free text, so every piece is certain to occur often. */
export function stringFrom(pieces: readonly string[], free: fc.Arbitrary<string>, maxPieces = 8): fc.Arbitrary<string> {
  return fc.array(fc.oneof(fc.constantFrom(...pieces), free), { maxLength: maxPieces }).map((parts) => parts.join(""));
}

/** Runs `arbitrary` and records which of `families` its values fell into, for coverage checks. */
export function coverage<T>(families: Record<string, (value: T) => boolean>) {
  const seen = new Set<string>();
  return {
    note(value: T) {
      for (const [name, test] of Object.entries(families)) if (test(value)) seen.add(name);
    },
    missing: () => Object.keys(families).filter((name) => !seen.has(name)),
  };
}
