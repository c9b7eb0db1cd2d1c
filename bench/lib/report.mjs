// Shared helpers of the side-by-side benchmarks: the environment line, statistics, markdown.
import { machine } from "./common.mjs";

export { table } from "./common.mjs";

/** Date, Node version, CPU model × cores, load average: printed at the top of every benchmark's output. */
export const environment = machine;

export const median = (values) => percentile(values, 50);

/** Nearest-rank percentile; NaN for an empty list. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
/** 12,345 for integers; one or two decimals for small fractional values. */
export function format(value, digits) {
  if (typeof value !== "number" || Number.isNaN(value)) return "—";
  if (digits !== undefined) return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return Number.isInteger(value) ? integer.format(value) : value.toLocaleString("en-US", { maximumFractionDigits: value < 10 ? 2 : 1 });
}

/** "×3.2" of value against ours; "×1" when equal, "—" when ours is 0 and the value is not. */
export function ratio(value, ours) {
  if (typeof value !== "number" || typeof ours !== "number" || Number.isNaN(value) || Number.isNaN(ours)) return "—";
  if (value === ours) return "×1";
  if (ours === 0) return "—";
  const r = value / ours;
  return `×${r >= 100 ? integer.format(r) : r.toLocaleString("en-US", { maximumFractionDigits: r < 10 ? 2 : 1 })}`;
}

/** A value with its ratio to ours, as one cell: "1,000 (×1,000)". */
export const withRatio = (value, ours, digits) => `${format(value, digits)} (${ratio(value, ours)})`;
