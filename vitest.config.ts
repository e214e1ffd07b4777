import { defineConfig } from 'vitest/config';

// One PostgreSQL for the whole run (embedded, or TEST_DATABASE_URL); test files run one after another
// because each empties the tables between its tests.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { NODE_ENV: 'test' },
  },
});
