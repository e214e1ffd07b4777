import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CHROMIUM_PATH } from './browser.js';

/**
 * Runs once before the browser tests: checks that Debian's Chromium is there (never a downloaded browser) and
 * empties test-results/screenshots/. Each test file then starts its own portal (real app, fresh embedded
 * database, a FixedClock it controls) and its own Chromium: see portal.ts.
 */
export function setup(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Install Debian's: apt-get install -y chromium fonts-noto-cjk (or set CHROMIUM_PATH).`,
    );
  }
  const dir = path.resolve('test-results/screenshots');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}
