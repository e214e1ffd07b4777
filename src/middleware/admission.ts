/**
 * Admission control for a bursty machine API (the gate readers at 07:30): at most `concurrency` requests run
 * at once — so a burst never takes every database connection from the pages — up to `queue` more wait their
 * turn in arrival order for at most `queueWaitMs`, and the rest are shed at once. A request that is shed or
 * waits too long gets `onBusy` (the API answers 503 with Retry-After); none hangs, none is half-done.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export interface AdmissionOptions {
  concurrency: number;
  queue: number;
  queueWaitMs: number;
  onBusy: (req: Request, res: Response, why: 'queue_full' | 'waited_too_long') => void;
}

export interface Admission extends RequestHandler {
  /** Requests running and waiting now (for logs and tests). */
  stats(): { running: number; waiting: number };
}

export function admission(o: AdmissionOptions): Admission {
  let running = 0;
  const waiting: { admit: () => void; timer: NodeJS.Timeout }[] = [];

  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) {
      clearTimeout(next.timer);
      next.admit();
    }
  };
  const start = (res: Response, next: NextFunction) => {
    running++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      release();
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };

  const handler = ((req: Request, res: Response, next: NextFunction) => {
    if (running < o.concurrency && waiting.length === 0) return start(res, next);
    if (waiting.length >= o.queue) return o.onBusy(req, res, 'queue_full');
    const entry = {
      admit: () => start(res, next),
      timer: setTimeout(() => {
        const i = waiting.indexOf(entry);
        if (i >= 0) waiting.splice(i, 1);
        o.onBusy(req, res, 'waited_too_long');
      }, o.queueWaitMs),
    };
    waiting.push(entry);
    // A client that gives up while waiting leaves the queue.
    res.once('close', () => {
      const i = waiting.indexOf(entry);
      if (i >= 0) {
        waiting.splice(i, 1);
        clearTimeout(entry.timer);
      }
    });
  }) as Admission;
  handler.stats = () => ({ running, waiting: waiting.length });
  return handler;
}
