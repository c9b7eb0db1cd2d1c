/** The protocol lines of checks.mjs (after the "RRT " prefix). */
export type Message =
  | { type: "host"; runtime: string }
  | { type: "meta"; runtime: string; kind: string | null; error: string | null }
  | { type: "check"; name: string; ok: boolean; error: string | null; ms: number }
  | { type: "done"; passed: number; failed: number }
  | { type: "fatal"; error: string };

export declare const LINE_PREFIX: string;
export declare function line(message: Message): string;
export declare function runtimeName(): string;
export declare function errorText(error: unknown): string;
export declare function runChecks(options: {
  client: unknown;
  emit: (message: Message) => void;
  timeoutMs?: number;
}): Promise<{ passed: number; failed: number }>;
