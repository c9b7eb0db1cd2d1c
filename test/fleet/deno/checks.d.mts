export interface DenoKvCheck {
  name: string;
  fn: () => Promise<string | undefined>;
}
/** `env` is undefined when only the names are wanted (vitest builds one `it` per check). */
export declare function denoKvChecks(env?: { kv: unknown; denoKvStore: (...args: unknown[]) => unknown }): DenoKvCheck[];
