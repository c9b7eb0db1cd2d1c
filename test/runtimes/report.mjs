// Shared by every runner (portable: no runtime-specific imports). Prints one line per test,
// then a final `passed N failed M` line (plus `skipped K` when a runtime lacked a feature) and a
// machine-readable `RESULT {json}` line the driver parses.

/** @param {string} label @param {{passed:number,failed:number,skipped:number,total:number,runtime:string,results:Array<{name:string,ok:boolean,skipped:boolean,error:string|null,ms:number}>}} summary */
export function formatSummary(label, summary) {
  const lines = [`# ${label}: ${summary.runtime}`];
  for (const r of summary.results) {
    lines.push(`${r.ok ? "ok" : r.skipped ? "SKIP" : "not ok"} - ${r.name} (${r.ms} ms)`);
    if (r.error) lines.push(`    ${r.error}`);
  }
  lines.push(
    `RESULT ${JSON.stringify({ label, runtime: summary.runtime, passed: summary.passed, failed: summary.failed, skipped: summary.skipped, total: summary.total })}`,
  );
  lines.push(`passed ${summary.passed} failed ${summary.failed}${summary.skipped ? ` skipped ${summary.skipped}` : ""}`);
  return lines.join("\n");
}

/** A summary for a runtime that could not run the suite at all. */
export function crashed(label, error) {
  return {
    runtime: label,
    passed: 0,
    failed: 1,
    skipped: 0,
    total: 0,
    results: [{ name: "start the suite", ok: false, skipped: false, error: String(error?.stack ?? error), ms: 0 }],
  };
}
