/** Background work of an app process (the SMS dispatcher). Stops after its current batch. */
import type { AppDeps } from './deps.js';

export interface Jobs {
  stop(): Promise<void>;
}

export function startBackgroundJobs(_deps: AppDeps): Jobs {
  return { stop: async () => {} };
}
