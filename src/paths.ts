import path from 'node:path';
import { fileURLToPath } from 'node:url';

// This file is <root>/src/paths.ts, or <root>/dist/src/paths.js once compiled.
const up = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The project root (where package.json, views/, public/, migrations/ and seeds/ are). */
export const PROJECT_ROOT = path.basename(up) === 'dist' ? path.dirname(up) : up;
/** Compiled code lives beside the sources under dist/: migrations and seeds are imported from there. */
export const CODE_ROOT = up;
