// The token-file source (src/sources/file.ts): re-read when the file changes, as kubelet rotates
// projected service-account tokens (a new file behind a swapped symlink).
import { mkdtemp, rename, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fileToken } from "../../src/sources/file.js";
import { rejection } from "../helpers.js";

const context = { audience: "https://auth.example.com", tokenEndpoint: "https://auth.example.com/token" };
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "mcc-token-"));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe("fileToken", () => {
  it("reads and trims the file, and reads it again for the next token request", async () => {
    const file = path.join(dir, "token");
    await writeFile(file, "aaa.bbb.ccc\n");
    const source = fileToken(file);
    expect(await source(context)).toBe("aaa.bbb.ccc");
    await writeFile(file, "ddd.eee.fff\n"); // same size, same millisecond: still read
    expect(await source(context)).toBe("ddd.eee.fff");
  });

  it("follows a kubelet-style rotation: ..data symlink swapped to a new directory", async () => {
    const first = path.join(dir, "..2026_11_30_1");
    const second = path.join(dir, "..2026_11_30_2");
    for (const [folder, token] of [
      [first, "first.token.jwt"],
      [second, "second.token.jwt"],
    ] as const) {
      await import("node:fs/promises").then((fs) => fs.mkdir(folder));
      await writeFile(path.join(folder, "token"), token);
    }
    await symlink(first, path.join(dir, "..data"));
    await symlink(path.join("..data", "token"), path.join(dir, "token"));
    const source = fileToken(path.join(dir, "token"));
    expect(await source(context)).toBe("first.token.jwt");
    await symlink(second, path.join(dir, "..data_tmp"));
    await rename(path.join(dir, "..data_tmp"), path.join(dir, "..data"));
    expect(await source(context)).toBe("second.token.jwt");
  });

  it("a missing file is assertion_unavailable naming the path and the reason, and it recovers", async () => {
    const file = path.join(dir, "token");
    const source = fileToken(file);
    const error = await rejection(source(context));
    expect(error).toMatchObject({ phase: "token", code: "assertion_unavailable" });
    expect(error.message).toBe(`[token] the token file ${file} could not be read (ENOENT)`);
    await writeFile(file, "x.y.z");
    expect(await source(context)).toBe("x.y.z");
    await unlink(file);
    expect((await rejection(source(context))).code).toBe("assertion_unavailable");
  });

  it("an empty file is an error, not an empty assertion", async () => {
    const file = path.join(dir, "token");
    await writeFile(file, "\n");
    expect((await rejection(fileToken(file)(context))).message).toBe(`[token] the token file ${file} is empty`);
  });

  it("takes a file: URL", async () => {
    const file = path.join(dir, "token");
    await writeFile(file, "u.r.l");
    expect(await fileToken(new URL(`file://${file}`))(context)).toBe("u.r.l");
  });
});
