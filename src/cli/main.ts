import { run } from "./index.js";

// Keep-alive sockets would hold the process open for seconds after the answer: exit once
// stdout has flushed (a pipe on macOS is asynchronous).
run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => process.stdout.write("", () => process.exit(code)),
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
