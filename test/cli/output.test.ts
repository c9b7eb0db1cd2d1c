import { afterEach, describe, expect, it, vi } from "vitest";
import { createOutput, type Io } from "../../src/cli/output.js";

const ESC = "\x1b[";

function io(options: { stdoutTTY?: boolean; stderrTTY?: boolean; env?: Io["env"] } = {}) {
  const text = { stdout: "", stderr: "" };
  const output = createOutput({
    stdout: { write: (chunk: string) => (text.stdout += chunk), isTTY: options.stdoutTTY },
    stderr: { write: (chunk: string) => (text.stderr += chunk), isTTY: options.stderrTTY },
    env: options.env ?? {},
  });
  return { output, text };
}

afterEach(() => vi.useRealTimers());

describe("colour", () => {
  it("paints on a TTY with no NO_COLOR and an ordinary TERM", () => {
    const { output } = io({ stderrTTY: true, env: { TERM: "xterm-256color" } });
    expect(output.paint("red", "error:")).toBe(`${ESC}31merror:${ESC}39m`);
    expect(output.paint("bold", "x")).toBe(`${ESC}1mx${ESC}22m`);
  });

  it.each([
    ["not a TTY", { stderrTTY: false, env: {} }],
    ["isTTY unset", { env: {} }],
    ["NO_COLOR=1", { stderrTTY: true, env: { NO_COLOR: "1" } }],
    ["NO_COLOR=0 (any value)", { stderrTTY: true, env: { NO_COLOR: "0" } }],
    ["TERM=dumb", { stderrTTY: true, env: { TERM: "dumb" } }],
  ])("does not paint when %s", (_, options) => {
    expect(io(options).output.paint("red", "error:")).toBe("error:");
  });

  it("paints when NO_COLOR is set but empty (no-color.org)", () => {
    expect(io({ stderrTTY: true, env: { NO_COLOR: "" } }).output.paint("green", "ok")).toBe(`${ESC}32mok${ESC}39m`);
  });

  it("paints stdout by stdout's TTY, not stderr's", () => {
    const pipe = io({ stdoutTTY: false, stderrTTY: true });
    expect(pipe.output.paintStdout("cyan", "x")).toBe("x");
    expect(pipe.output.paint("cyan", "x")).not.toBe("x");
    const terminal = io({ stdoutTTY: true, stderrTTY: false });
    expect(terminal.output.paintStdout("cyan", "x")).toBe(`${ESC}36mx${ESC}39m`);
    expect(terminal.output.paint("cyan", "x")).toBe("x");
  });

  it("writes info and warnings to stderr only, the warning painted on a TTY", () => {
    const plain = io();
    plain.output.info("hello");
    plain.output.warn("careful");
    expect(plain.text).toEqual({ stdout: "", stderr: "hello\nwarning: careful\n" });
    const tty = io({ stderrTTY: true });
    tty.output.warn("careful");
    expect(tty.text.stderr).toBe(`${ESC}33mwarning:${ESC}39m careful\n`);
  });
});

describe("spinner", () => {
  it("writes nothing when stderr is not a TTY", () => {
    vi.useFakeTimers();
    const { output, text } = io({ stdoutTTY: true });
    const stop = output.spin("discovering");
    vi.advanceTimersByTime(5000);
    stop();
    expect(text).toEqual({ stdout: "", stderr: "" });
  });

  it("waits about 300 ms before the first frame, then clears its line on stop", () => {
    vi.useFakeTimers();
    const { output, text } = io({ stderrTTY: true, env: { NO_COLOR: "1" } });
    const stop = output.spin("discovering https://mcp.example.com");
    vi.advanceTimersByTime(299);
    expect(text.stderr).toBe("");
    vi.advanceTimersByTime(200);
    expect(text.stderr).toMatch(/^\r⠋ discovering https:\/\/mcp\.example\.com/);
    const frames = text.stderr.split("\r").filter(Boolean);
    expect(frames.length).toBeGreaterThan(0);
    vi.advanceTimersByTime(400);
    expect(text.stderr.split("\r").filter(Boolean).length).toBeGreaterThan(frames.length);
    expect(text.stderr).toContain("\r⠙ discovering");
    stop();
    expect(text.stderr.endsWith(`\r${ESC}2K`)).toBe(true);
    const length = text.stderr.length;
    vi.advanceTimersByTime(2000);
    expect(text.stderr.length).toBe(length);
    expect(text.stdout).toBe("");
  });

  it("writes nothing, not even the clear, when stopped before it showed", () => {
    vi.useFakeTimers();
    const { output, text } = io({ stderrTTY: true });
    const stop = output.spin("quick");
    vi.advanceTimersByTime(100);
    stop();
    vi.advanceTimersByTime(2000);
    expect(text.stderr).toBe("");
  });
});
