// Chromium page entry (bundled as an ES module): the suite + library in a window.
import * as lib from "../../../dist/index.js";
import { run } from "../../portable/suite.js";

export function runSuite(config) {
  return run({ lib, ...config });
}
