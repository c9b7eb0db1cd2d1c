// Shared by the side-by-side benchmarks: machine header, markdown tables, medians, --expose-gc.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = resolve(import.meta.dirname, "../..");
export const benchDir = resolve(import.meta.dirname, "..");

/** "date, Node version, CPU model × cores, load", for the top of every table (other work on the machine skews timings). */
export function machine() {
  const list = cpus();
  return `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, Node ${process.version}, ${list[0]?.model.trim() ?? "unknown CPU"} × ${list.length} cores, load average ${loadavg()[0].toFixed(2)} at start`;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A markdown table; `align` is "l" or "r" per column (default: first left, others right). */
export function table(header, rows, align = header.map((_, i) => (i ? "r" : "l"))) {
  const cells = [header, ...rows].map((row) => row.map((cell) => String(cell ?? "")));
  const widths = header.map((_, i) => Math.max(3, ...cells.map((row) => row[i].length)));
  const line = (row) => `| ${row.map((cell, i) => (align[i] === "r" ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (align[i] === "r" ? `${"-".repeat(w - 1)}:` : "-".repeat(w))).join(" | ")} |`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join("\n");
}

/** Re-runs the calling script under `node --expose-gc` when `gc` is not exposed yet. */
export function ensureGc(scriptUrl) {
  if (typeof globalThis.gc === "function") return true;
  const result = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(scriptUrl), ...process.argv.slice(2)], { stdio: "inherit" });
  process.exitCode = result.status ?? 1;
  return false;
}

/** Our package as users import it: the built dist (rebuilt now and then by others, so wait for it). */
export async function importOurs(entry = "index.js") {
  const file = resolve(root, "dist", entry);
  for (let attempt = 0; attempt < 60 && !existsSync(file); attempt++) await sleep(1000);
  try {
    return await import(pathToFileURL(file).href);
  } catch (error) {
    // A rebuild in progress can leave a chunk missing for a moment: one more try.
    await sleep(3000);
    if (!existsSync(file)) throw error;
    return import(`${pathToFileURL(file).href}?retry`);
  }
}

export const fmt = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
