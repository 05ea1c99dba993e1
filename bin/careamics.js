#!/usr/bin/env node
// The `careamics` command. In a checkout of the repository (src/ present, tsx installed by `npm ci`) it runs the
// TypeScript sources through tsx, so a stale dist/ never shadows them; in the installed package (no src/) it runs
// the compiled CLI in dist/, which `npm pack` builds (the `prepack` script).
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);
const tsx = existsSync(sources) ? await import('tsx/esm/api').catch(() => undefined) : undefined;
let cli;
if (tsx) {
  tsx.register();
  cli = await import(sources.href);
} else if (existsSync(compiled)) {
  cli = await import(compiled.href);
} else {
  process.stderr.write('careamics: error: dist/ is missing and tsx is not installed; run `npm run build`\n');
  process.exit(1);
}
process.exitCode = await cli.run(process.argv.slice(2));
