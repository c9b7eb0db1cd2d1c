// The test loop, run by run.mjs in Node 22 (better-auth's database here is node:sqlite): starts
// better-auth and the MCP server, runs tests.mjs, prints one line per test and "N passed, N failed".
//
//   node22 test/better-auth/suite.mjs [name filter]
import { readFileSync } from "node:fs";
import { redactor } from "../support/suite-runner.mjs";

/** Only a hang gets near this; a test's real work takes well under a second. */
const TEST_TIMEOUT_MS = 60_000;

/** Values no output may contain: client secrets, private keys, client assertions, access tokens. */
const secrets = new Set();
const secret = (value) => {
  if (typeof value === "string" && value.length >= 8) secrets.add(value);
  return value;
};
const redact = redactor(secrets);
// better-auth's own logs and anything else written to stderr here are redacted too, and so is
// the stack of an error nothing caught (which Node would print as it is).
const write = process.stderr.write.bind(process.stderr);
process.stderr.write = (chunk, ...rest) => write(redact(chunk), ...rest);
for (const event of ["uncaughtException", "unhandledRejection"]) {
  process.on(event, (error) => {
    console.error(`${event}: ${redact(error?.stack ?? error)}`);
    process.exit(1);
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const version = (name) => JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), "utf8")).version;

const filter = process.argv[2];
let passed = 0;
let failed = 0;
let tests = [];
let stack;
try {
  ({ tests } = await import("./tests.mjs"));
  if (filter) tests = tests.filter((test) => test.name.includes(filter));
  if (tests.length === 0) throw new Error(`no test matches ${JSON.stringify(filter)}`);
  const { start } = await import("./stack.mjs");
  console.log(
    `better-auth ${version("better-auth")}, @better-auth/oauth-provider ${version("@better-auth/oauth-provider")}, node:sqlite, Node ${process.version}`,
  );
  stack = await withTimeout(start(), TEST_TIMEOUT_MS, "starting better-auth and the MCP server");
} catch (error) {
  // Nothing may be skipped: without the servers every test fails (and at least one is counted).
  console.log(`✗ setup: ${redact(error?.stack ?? error)}`);
  failed = Math.max(tests.length, 1);
}

if (stack) {
  for (const test of tests) {
    try {
      await withTimeout(test.run({ stack, secret }), TEST_TIMEOUT_MS, "the test");
      passed++;
      console.log(`✓ ${test.name}`);
    } catch (error) {
      failed++;
      console.log(
        `✗ ${test.name}\n    ${redact(error?.message ?? error)
          .split("\n")
          .join("\n    ")}`,
      );
    }
  }
  await stack.close();
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
