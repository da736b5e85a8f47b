/**
 * Which methods a path has routes for, so that a known path asked with another method
 * answers 405 with `Allow` (RFC 9110 §15.5.6) instead of 404.
 */
export class RouteMethods {
  private readonly routes: Array<{ pattern: RegExp; methods: Set<string> }> = [];
  private readonly byUrl = new Map<string, Set<string>>();

  add(url: string, method: string | string[]): void {
    let methods = this.byUrl.get(url);
    if (methods === undefined) {
      methods = new Set();
      this.byUrl.set(url, methods);
      this.routes.push({ pattern: patternOf(url), methods });
    }
    for (const m of Array.isArray(method) ? method : [method]) methods.add(m.toUpperCase());
  }

  /** Methods of every route whose pattern matches `path`, sorted; empty for an unknown path. */
  allowed(path: string): string[] {
    const out = new Set<string>();
    for (const r of this.routes) if (r.pattern.test(path)) for (const m of r.methods) out.add(m);
    return [...out].sort();
  }
}

/** A fastify route url (`/v1/alerts/:id/ack`, `/docs/*`) as an anchored regular expression. */
function patternOf(url: string): RegExp {
  let re = '';
  for (const part of url.split(/(:[A-Za-z_][\w-]*|\*)/)) {
    if (part === '*') re += '.*';
    else if (part.startsWith(':')) re += '[^/]+';
    else re += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
