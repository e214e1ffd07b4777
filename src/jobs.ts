/** Background work of an app process (the SMS dispatcher). Stops after its current batch. */
import type { AppDeps } from './deps.js';
import { SmsDispatcher, startDispatcherLoop } from './domain/sms/dispatcher.js';
import { providerFromConfig, showsVerificationCodes } from './domain/sms/providers/index.js';

export interface Jobs {
  stop(): Promise<void>;
}

export function startBackgroundJobs(deps: AppDeps): Jobs {
  const { config, db, clock, logger } = deps;
  if (!config.sms.dispatcher) return { stop: async () => {} };
  const provider = providerFromConfig(config, logger);
  const { batchSize, concurrency, maxAttempts, intervalMs } = config.sms;
  const dispatcher = new SmsDispatcher({
    knex: db.knex,
    clock,
    provider,
    logger,
    maxAttempts,
    batchSize,
    concurrency,
    keepVerificationCodes: showsVerificationCodes(config),
  });
  const loop = startDispatcherLoop(dispatcher, { intervalMs, batchSize, logger });
  logger.info({ provider: provider.name, intervalMs, batchSize, concurrency }, 'sms dispatcher started');
  return {
    async stop() {
      await loop.stop();
      logger.info('sms dispatcher stopped');
    },
  };
}
