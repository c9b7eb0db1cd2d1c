/**
 * Where the CLI writes. stdout carries only the result (a token, a body, a URL), so that
 * `$(…)` and pipes get nothing else; everything for people goes to stderr. Colour and the
 * spinner are hand-written (30 lines) rather than picocolors + ora: ora 9 brings 8 direct
 * dependencies (chalk, cli-cursor, string-width, …) for a line that spins.
 */

export interface Stream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface Io {
  stdout: Stream;
  stderr: Stream;
  env: Record<string, string | undefined>;
}

const STYLES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof STYLES;
export type Paint = (style: Style, text: string) => string;

export interface Output {
  readonly io: Io;
  /** Styles text for stderr: only on a TTY, never with NO_COLOR (https://no-color.org). */
  paint: Paint;
  /** The same for stdout, which may be a pipe when stderr is not. */
  paintStdout: Paint;
  /** A line for people, on stderr. */
  info(text: string): void;
  warn(text: string): void;
  /** Shows `label` with a spinner on stderr after a moment, on a TTY only; returns the stop. */
  spin(label: string): () => void;
}

const FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
const SPINNER_DELAY_MS = 300;

export function createOutput(io: Io): Output {
  const paint = painter(io.stderr, io.env);
  return {
    io,
    paint,
    paintStdout: painter(io.stdout, io.env),
    info: (text) => io.stderr.write(`${text}\n`),
    warn: (text) => io.stderr.write(`${paint("yellow", "warning:")} ${text}\n`),
    spin(label) {
      if (!io.stderr.isTTY) return () => {};
      let frame = 0;
      let shown = false;
      let timer: ReturnType<typeof setInterval> | undefined;
      const start = setTimeout(() => {
        timer = setInterval(() => {
          shown = true;
          io.stderr.write(`\r${paint("cyan", FRAMES[frame++ % FRAMES.length]!)} ${label}`);
        }, 80);
        timer.unref?.();
      }, SPINNER_DELAY_MS);
      start.unref?.();
      return () => {
        clearTimeout(start);
        clearInterval(timer);
        if (shown) io.stderr.write("\r\x1b[2K");
      };
    },
  };
}

function painter(stream: Stream, env: Io["env"]): Paint {
  const color = Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== "dumb";
  return (style, text) => (color ? `\x1b[${STYLES[style][0]}m${text}\x1b[${STYLES[style][1]}m` : text);
}
