/** The provider named by the settings (SMS_PROVIDER). */
import type { Config } from '../../../config.js';
import type { Logger } from '../../../logger.js';
import { LogProvider } from './log-provider.js';
import { MitakeProvider } from './mitake-provider.js';
import type { SmsProvider } from './provider.js';

export type { SmsProvider, OutgoingSms, SendResult } from './provider.js';

/** The URL the gateway calls back with delivery reports (token included), when a token is set. */
export function mitakeCallbackUrl(config: Config): string | undefined {
  if (!config.sms.callbackToken) return undefined;
  return `${config.publicUrl}/api/v1/sms/mitake/callback?token=${encodeURIComponent(config.sms.callbackToken)}`;
}

/**
 * Whether 簡訊發送紀錄 shows verification codes in full (and the dispatcher keeps them readable): only with
 * the development log provider, which sends nothing to a phone, and never in production — so a person trying
 * the demo can verify a new number. With a real gateway the code reaches the phone and stays masked here.
 */
export function showsVerificationCodes(config: Pick<Config, 'isProduction' | 'sms'>): boolean {
  return config.sms.provider === 'log' && !config.isProduction;
}

export function providerFromConfig(config: Config, logger?: Logger): SmsProvider {
  if (config.sms.provider === 'mitake') {
    const { mitakeUrl, mitakeUsername, mitakePassword } = config.sms;
    if (!mitakeUrl || !mitakeUsername || !mitakePassword)
      throw new Error('SMS_PROVIDER=mitake needs MITAKE_URL, MITAKE_USERNAME, MITAKE_PASSWORD');
    return new MitakeProvider({
      url: mitakeUrl,
      username: mitakeUsername,
      password: mitakePassword,
      callbackUrl: mitakeCallbackUrl(config),
      logger,
    });
  }
  return new LogProvider(logger);
}
