import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Docker and tmux tests share one engine and one tmux server: keep files from starving each other.
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
