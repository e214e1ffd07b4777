/**
 * The development provider (SMS_PROVIDER=log, the default): sends nothing, records the message as sent with
 * the id `log-<outbox id>` and writes one log line without the whole number. The SMS log page (/sms/log)
 * shows what was "sent".
 */
import type { Logger } from '../../../logger.js';
import { type OutgoingSms, type SendResult, type SmsProvider } from './provider.js';
import { maskPhone } from '../../phones/phone-number.js';

export class LogProvider implements SmsProvider {
  readonly name = 'log';
  constructor(private readonly logger?: Logger) {}

  async send(sms: OutgoingSms): Promise<SendResult> {
    this.logger?.info(
      { outboxId: sms.id, to: maskPhone(sms.phone), chars: Array.from(sms.body).length },
      'sms (log provider)',
    );
    return { ok: true, providerMessageId: `log-${sms.id}` };
  }
}
