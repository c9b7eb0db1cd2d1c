import type { Binding } from "./binding.js";
import type { BindingRegistry } from "./bindings.js";

const MAX_ROUTES = 1024;

/** What this instance knows about one request URL, kept so the next request to it parses and searches nothing. */
export interface Route {
  url: URL;
  /** `url.href`, serialised once. */
  href: string;
  /** May this URL ever carry a token (it is under the configured resource URL, if any)? */
  allowed: boolean;
  binding: Binding | undefined;
  /** The registry's version `binding` was looked up at. */
  version: number;
}

/**
 * URL → route, for the hot path: MCP clients call the same few URLs over and over, so parsing
 * each one and matching it against the bindings once is enough. Relative URLs resolve against
 * the page's location, which can change, so they are never kept.
 */
export class Routes {
  readonly #routes = new Map<string, Route>();
  readonly #bindings: BindingRegistry;

  constructor(bindings: BindingRegistry) {
    this.#bindings = bindings;
  }

  get(input: string | URL): Route {
    const href = typeof input === "string" ? input : input.href;
    const known = this.#routes.get(href);
    if (known) return known;
    let url: URL;
    let keep = true;
    try {
      url = new URL(href);
    } catch {
      url = new URL(href, globalThis.location?.href); // throws for a bad URL, as fetch would
      keep = false;
    }
    const route: Route = { url, href: url.href, allowed: this.#bindings.mayAuthorize(url), binding: undefined, version: -1 };
    if (keep) {
      if (this.#routes.size >= MAX_ROUTES) this.#routes.clear();
      this.#routes.set(href, route);
    }
    return route;
  }

  /** The binding covering the route, when the registry can say so without waiting. */
  binding(route: Route): Binding | undefined {
    const version = this.#bindings.version;
    if (route.version === version) return route.binding;
    const found = this.#bindings.find(route.url);
    if (found instanceof Promise) return undefined;
    route.binding = found;
    route.version = version;
    return found;
  }
}
