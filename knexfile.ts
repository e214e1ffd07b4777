/**
 * Knex settings for tools that want a knexfile. The app itself migrates on start (src/db/migrate.ts), and
 * `npm run migrate` runs the same migrations; both read the same settings (src/config.ts).
 * Without DATABASE_URL the portal uses its embedded PostgreSQL, which has no fixed address: use
 * `npm run migrate` rather than the knex CLI in that case.
 */
import 'dotenv/config';
import type { Knex } from 'knex';
import { loadConfig } from './src/config.js';
import { knexConfig } from './src/db/connection.js';
import { migrationConfig } from './src/db/migrate.js';

const config = loadConfig(process.env);

const knexfile: Knex.Config = {
  ...knexConfig(config.databaseUrl ?? 'postgres://localhost/postgres', config),
  migrations: migrationConfig(),
};

export default knexfile;
