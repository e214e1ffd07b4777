/**
 * The embedded default's memory: the portal as `npm start` runs it with no DATABASE_URL (PGlite inside the
 * process, a fresh DATA_DIR given the demo data), its RSS at peak while the login page — a session row written per
 * visit — is under load.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load } from './load.js';
import { PORTAL_ENTRY, startProcess } from './processes.js';

export async function embeddedRow(seconds: number, connections: number): Promise<{ rssPeak: number; rps: number }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-embedded-'));
  try {
    const portal = await startProcess(
      'embedded portal',
      PORTAL_ENTRY,
      {
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        SMS_DISPATCHER: 'false',
      },
      '/login',
    );
    try {
      const r = await load(`${portal.base}/login`, { seconds, connections });
      const { peak } = await portal.rss();
      return { rssPeak: peak, rps: r.rps };
    } finally {
      await portal.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
