import { defineConfig } from 'vitest/config';

// The reliability suite (`npm run test:reliability`): real portal processes, real sockets, a real PostgreSQL
// server (TEST_DATABASE_URL, emptied) and a throwaway cluster of its own for the outage cases. One file at a time.
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/reliability/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { NODE_ENV: 'test' },
  },
});
