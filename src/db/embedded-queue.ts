/**
 * The scheduler between pglite-socket's connections and the one PGlite backend they share.
 *
 * PGlite is a single PostgreSQL session. pglite-socket lets many clients connect by queueing their protocol
 * messages, and gives a client that opened a transaction the backend until it ends. Its own queue
 * (0.2.17) has two faults that hang the whole database under concurrent requests:
 *  - it switches clients in the middle of an extended-protocol query (Parse … Sync), so one client's Bind can
 *    run against another's statement, and a BEGIN can land inside another client's unfinished query;
 *  - after one failed message it stops processing for good (its `processing` flag is never reset).
 * This queue keeps the backend with one client from its first message until its query is complete (after
 * Sync or a simple Query) and no transaction is open, and always keeps processing.
 */
import type { PGlite } from '@electric-sql/pglite';

interface Item {
  handlerId: number;
  message: Uint8Array;
  resolve(bytes: number): void;
  reject(err: unknown): void;
  onData(data: Uint8Array): void;
}

const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'

/** A message after which the backend is ready for another client (unless a transaction is open). */
function endsExchange(message: Uint8Array): boolean {
  const type = message[0];
  // A startup message has no type byte: it starts with its length, whose first byte is 0.
  return type === SYNC || type === QUERY || type === TERMINATE || type === 0;
}

export class ProtocolAwareQueue {
  private readonly queue: Item[] = [];
  private processing = false;
  /** The client the backend belongs to until its exchange (and any transaction) ends. */
  private owner: number | null = null;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, resolve, reject, onData });
      void this.process();
    });
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const index = this.owner === null ? 0 : this.queue.findIndex((q) => q.handlerId === this.owner);
        if (index === -1) break; // the owner's next message has not arrived yet
        const [item] = this.queue.splice(index, 1);
        if (!item) break;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
          this.owner = this.db.isInTransaction() || !endsExchange(item.message) ? item.handlerId : null;
          item.resolve(bytes);
        } catch (err) {
          this.owner = this.db.isInTransaction() ? item.handlerId : null;
          item.reject(err);
        }
      }
    } finally {
      this.processing = false;
    }
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const item = this.queue[i];
      if (item && item.handlerId === handlerId) {
        this.queue.splice(i, 1);
        item.reject(new Error('Handler disconnected'));
      }
    }
  }

  /** A client went away: roll back what it left open and give the backend to the others. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    try {
      // exec() takes PGlite's query lock itself (inside runExclusive, which holds it, it would wait forever and
      // with it every connection of the embedded database).
      if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    } catch {
      // The database is being shut down (a script's Ctrl-C cuts its connections and closes it at once): its
      // shutdown ends the transaction. (pglite-socket does not wait for this, so it must not reject.)
    }
    this.owner = null;
    await this.process();
  }
}
