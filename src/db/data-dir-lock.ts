/**
 * One owner per embedded data folder. The portal, `migrate`, `seed` and `admin` take this lock before PGlite
 * opens DATA_DIR; a second process stops at once with a message naming the holder.
 *
 * The lock is a listening Unix-domain socket whose name is derived from the folder's identity (device and inode,
 * so two spellings of one folder are one lock). On Linux it lives in the abstract namespace: the kernel binds a
 * name once (EADDRINUSE for anyone else, with no window between a check and a take), releases it when the process
 * ends in any way (kill -9 included), and leaves no file behind, so there is no stale lock to clean up. Elsewhere
 * it is a socket file in DATA_DIR, removed when nobody answers on it. Node has no flock() of its own, and the
 * packages that offer one need a native build; a lock file with a pid goes stale (see README, Operations).
 * The holder answers whoever connects with one JSON line saying who it is.
 */
import { mkdirSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface DataDirLock {
  release(): Promise<void>;
}

export interface LockHolder {
  pid: number;
  owner: string;
  since: string;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder | undefined,
  ) {
    const who = holder ? `${holder.owner} (pid ${holder.pid}, since ${holder.since})` : 'another process';
    super(
      `The embedded database in ${dataDir} is in use by ${who}: it has one owner at a time.\n` +
        `Stop that process first (Ctrl-C, or kill -TERM ${holder?.pid ?? '<pid>'}) and try again, ` +
        `or set DATABASE_URL to use a PostgreSQL server, which any number of processes may share.`,
    );
    this.name = 'DataDirLockedError';
  }
}

function socketAddress(dataDir: string): string {
  const st = statSync(dataDir);
  if (process.platform === 'linux') return `\0student-card-portal/data-dir/${st.dev}/${st.ino}`;
  if (process.platform === 'win32') return `\\\\?\\pipe\\student-card-portal-data-dir-${st.dev}-${st.ino}`;
  return path.join(dataDir, '.owner.sock');
}

/** Ask the current holder who it is (it answers at once; nothing answering → undefined). */
function askHolder(address: string): Promise<LockHolder | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const sock = net.connect(address);
    const done = (h: LockHolder | undefined) => {
      sock.destroy();
      resolve(h);
    };
    sock.setTimeout(1000, () => done(undefined));
    sock.on('data', (d) => (text += d.toString()));
    sock.on('end', () => {
      try {
        done(JSON.parse(text) as LockHolder);
      } catch {
        done(undefined);
      }
    });
    sock.on('error', () => done(undefined));
  });
}

function listen(server: net.Server, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Take the lock on `dataDir` (created if missing) for `owner` (e.g. "the portal", "npm run migrate"), or throw
 * DataDirLockedError. The lock does not keep the process alive; `release()` gives it back (the end of the
 * process does too).
 */
export async function lockDataDir(dataDir: string, owner: string): Promise<DataDirLock> {
  const dir = path.resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const address = socketAddress(dir);
  const me: LockHolder = { pid: process.pid, owner, since: new Date().toISOString() };
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.end(JSON.stringify(me));
  });
  try {
    await listen(server, address);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    const holder = await askHolder(address);
    const fileSocket = !address.startsWith('\0') && !address.startsWith('\\\\');
    if (holder || !fileSocket) throw new DataDirLockedError(dir, holder);
    // A socket file left by a process that is gone (only where the abstract namespace does not exist).
    unlinkSync(address);
    try {
      await listen(server, address);
    } catch {
      throw new DataDirLockedError(dir, await askHolder(address));
    }
  }
  server.unref();
  return {
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
