import { run } from "./index.js";

// Keep-alive sockets would hold the process open for seconds after the answer: exit once
// stdout and stderr have flushed (a pipe on macOS is asynchronous).
const flushed = (stream: NodeJS.WriteStream) => new Promise((resolve) => stream.write("", resolve));

run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => Promise.all([flushed(process.stdout), flushed(process.stderr)]).then(() => process.exit(code)),
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
