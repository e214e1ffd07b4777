import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths that must never reach a log line. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.captcha',
  'captcha',
  'token',
  '*.token',
  'phone',
  '*.phone',
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
];

/** The app's logger; `destination` is for tests that read what was logged. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { app: 'student-card-portal', pid: process.pid },
  };
  return destination ? pino(options, destination) : pino(options);
}
