// The CLI's run() with an in-memory Io: what a unit test reads back.
import { run } from "../../src/cli/index.js";
import type { Io } from "../../src/cli/output.js";

export async function cli(argv: string[], env: Io["env"] = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const text = { stdout: "", stderr: "" };
  const code = await run(argv, {
    stdout: { write: (chunk: string) => (text.stdout += chunk) },
    stderr: { write: (chunk: string) => (text.stderr += chunk) },
    env,
  });
  return { code, ...text };
}
