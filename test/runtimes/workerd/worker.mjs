// Module worker for workerd (Cloudflare Workers): POST a JSON config, get the suite's summary.
import * as lib from "../../../dist/index.js";
import { run } from "../../portable/suite.js";

export default {
  async fetch(request) {
    const config = await request.json();
    const summary = await run({ lib, baseUrl: config.baseUrl, echoUrl: config.echoUrl, ci: config.ci, filter: config.filter });
    return Response.json(summary);
  },
};
