// Chromium dedicated Web Worker entry (bundled as an ES module worker): post a config, get the summary.
import * as lib from "../../../dist/index.js";
import { run } from "../../portable/suite.js";

self.onmessage = async (event) => {
  try {
    self.postMessage({ summary: await run({ lib, ...event.data }) });
  } catch (error) {
    self.postMessage({ error: String(error?.stack ?? error) });
  }
};
