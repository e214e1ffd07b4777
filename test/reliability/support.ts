/** Real portal processes for the reliability suite: start, wait until ready, signal, collect the exit. */
import { freePort, runEntry, type Proc } from '../support/processes.js';

export { freePort, type Proc } from '../support/processes.js';

/** A TypeScript entry point of the project (`src/server.ts`, `scripts/migrate.ts`, …) with only these settings. */
export function run(entry: string, env: Record<string, string>, args: string[] = []): Proc {
  return runEntry(entry, { LOG_LEVEL: 'info', ...env }, args);
}

export interface Portal extends Proc {
  port: number;
  base: string;
}

/** Start `src/server.ts` (web only unless SMS_DISPATCHER says otherwise) and wait for its /readyz. */
export async function startPortal(env: Record<string, string>, port?: number): Promise<Portal> {
  const p = port ?? (await freePort());
  const proc = run('src/server.ts', {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(p),
    SEED_DEMO: 'false',
    SMS_DISPATCHER: 'false',
    ...env,
  });
  const base = `http://127.0.0.1:${p}`;
  let gone = false;
  void proc.exited.then(() => (gone = true));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`the portal exited before it was ready:\n${proc.output()}`);
    if (proc.output().includes('"msg":"portal listening"')) {
      try {
        if ((await fetch(`${base}/readyz`)).status === 200) return { ...proc, port: p, base };
      } catch {
        // not yet
      }
    }
    await sleep(100);
  }
  throw new Error(`the portal was not ready in 90 s:\n${proc.output()}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
