#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm ci` (the `prepare` script), so `npx huitian`
// works in a fresh clone without a separate build step.
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2))).catch((err) => {
  process.stderr.write(`huitian: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
});
