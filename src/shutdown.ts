/**
 * Graceful shutdown of one serving process (the portal today; each worker of a cluster alike):
 * stop accepting, answer what is in flight, close every connection as soon as its response is sent
 * (`Connection: close` on every response from then on, idle keep-alive sockets closed as they become idle),
 * stop the background work after its batch, close the app's pools and the database, and only then report done.
 * If that takes longer than `timeoutMs`, the process exits 1 anyway (logged).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

export interface ShutdownSteps {
  server: Server;
  logger: Logger;
  timeoutMs: number;
  /** Background work (the SMS dispatcher): stops after its current batch. */
  jobs: { stop(): Promise<void> };
  /** What the app opened itself (session and throttle pools). */
  app: { shutdown(): Promise<void> };
  /** The database (pools, the embedded PostgreSQL and its DATA_DIR lock). */
  db: { close(): Promise<void> };
  exit?: (code: number) => void;
}

/**
 * Prepare `server` for a graceful shutdown and return the function that performs it (idempotent: a second
 * signal while draining is ignored). Call it right after creating the server, before any request.
 */
export function gracefulShutdown(steps: ShutdownSteps): (signal: string) => Promise<void> {
  const { server, logger } = steps;
  const exit = steps.exit ?? ((code: number) => process.exit(code));
  const inFlight = new Set<ServerResponse>();
  let draining = false;

  // Before the app's own listener: a route that answers at once (/healthz) has sent its headers by the time a
  // later listener runs, and setting one then throws, which would end the process in the middle of its drain.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    if (draining && !res.headersSent) res.setHeader('Connection', 'close');
    res.on('close', () => {
      inFlight.delete(res);
      // The socket is idle once the server has let go of this response: close it now rather than after the
      // keep-alive timeout (a response with `Connection: close` closes its socket by itself).
      if (draining) setImmediate(() => server.closeIdleConnections());
    });
  });

  let done: Promise<void> | undefined;
  return (signal: string) => {
    done ??= (async () => {
      draining = true;
      logger.info({ signal, inFlight: inFlight.size }, 'shutting down: draining requests');
      const force = setTimeout(() => {
        logger.error({ inFlight: inFlight.size }, 'shutdown took too long; exiting');
        exit(1);
      }, steps.timeoutMs);
      force.unref();
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      const httpClosed = new Promise<void>((resolve) => {
        server.close(() => resolve()); // stops accepting; Node closes the idle connections at once
        server.closeIdleConnections();
      });
      try {
        await Promise.all([httpClosed.then(() => logger.info('http server closed')), steps.jobs.stop()]);
        await steps.app.shutdown();
        await steps.db.close();
      } catch (err) {
        clearTimeout(force);
        logger.error({ err }, 'shutdown failed');
        exit(1);
        return;
      }
      clearTimeout(force);
      logger.info('stopped');
      exit(0);
    })();
    return done;
  };
}
