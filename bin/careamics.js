#!/usr/bin/env node
// The `careamics` command: the compiled CLI when the package is built (dist/), else the TypeScript sources
// through tsx (a devDependency, present after `npm ci` in this repository).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
let cli;
if (existsSync(compiled)) {
  cli = await import(compiled.href);
} else {
  const tsx = await import('tsx/esm/api').catch(() => undefined);
  if (!tsx) {
    process.stderr.write(
      'careamics: error: dist/ is missing and tsx is not installed; run `npm run build`\n',
    );
    process.exit(1);
  }
  tsx.register();
  cli = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
process.exitCode = await cli.run(process.argv.slice(2));
