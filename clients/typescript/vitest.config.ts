import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    globalSetup: ['test/global-setup.ts'],
    environment: 'node',
    environmentOptions: { happyDOM: { url: 'http://app.localhost:3000/' } },
    // The tests mostly wait on real processes (a 5 s Retry-After, an api restart): overlap them.
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
