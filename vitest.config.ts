import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The web app imports the package's browser entry by name; tests run it from source.
  resolve: {
    alias: [{ find: /^careamics-js$/, replacement: fileURLToPath(new URL('src/index.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: ORT sessions already use both, so test files run one at a time.
    fileParallelism: false,
  },
});
