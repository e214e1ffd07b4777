import type { TestProject } from 'vitest/node';
import { setup as setupTestDatabase } from '../support/global-setup.js';

/** The reliability suite runs on a PostgreSQL server only: the portals it starts must share one database. */
export async function setup(project: TestProject): Promise<void> {
  if (!process.env.TEST_DATABASE_URL) {
    throw new Error(
      'npm run test:reliability needs TEST_DATABASE_URL=postgres://… (a disposable database: it is emptied)',
    );
  }
  await setupTestDatabase(project);
}
