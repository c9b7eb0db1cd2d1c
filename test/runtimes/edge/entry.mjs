// Script (IIFE) entry for the Vercel edge runtime (@edge-runtime/vm): exposes the suite + library.
import * as lib from "../../../dist/index.js";
import { run } from "../../portable/suite.js";

globalThis.__portable = {
  run: (config) => run({ lib, ...config }),
};
