import { defineConfig } from 'vitest/config';

// `npm run test:unit`: the pure tests (no database is started). `npm test` runs them too, with the integration tests.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 10_000,
    env: { NODE_ENV: 'test' },
  },
});
