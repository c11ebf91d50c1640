// Test runner settings: tests live in test/, run in forked processes (onnxruntime-node is a native
// addon and is happiest outside worker threads), with generous timeouts for real inference.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
