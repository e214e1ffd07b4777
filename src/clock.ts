/** The app's clock. Everything that needs "now" or "today" asks it, never `new Date()` directly. */
import { taipeiDate } from './domain/time.js';

export interface Clock {
  now(): Date;
  /** Today's Asia/Taipei date, 'YYYY-MM-DD'. */
  today(): string;
}

/** The system clock, optionally started at `startAt` (APP_NOW): it then runs on from there. */
export function systemClock(startAt?: string): Clock {
  const offset = startAt ? Date.parse(startAt) - Date.now() : 0;
  const now = () => new Date(Date.now() + offset);
  return { now, today: () => taipeiDate(now()) };
}

/** A clock that stands still until told otherwise: for tests. */
export class FixedClock implements Clock {
  private at: number;
  constructor(at: string | Date) {
    this.at = typeof at === 'string' ? Date.parse(at) : at.getTime();
  }
  now(): Date {
    return new Date(this.at);
  }
  today(): string {
    return taipeiDate(this.now());
  }
  set(at: string | Date): void {
    this.at = typeof at === 'string' ? Date.parse(at) : at.getTime();
  }
  advance(ms: number): void {
    this.at += ms;
  }
}
