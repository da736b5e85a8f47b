/**
 * What the service publishes on NATS: every alert transition on
 * huitian.alerts.<category>.<severity> (after the alert store has it), and invalid
 * records on huitian.dlq with the reason in a header.
 */
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { toPublicAlert } from '../alerts/alert.js';
import { formatRfc3339 } from '../events/event-time.js';
import { alertSubjectOf } from '../events/routing.js';
import type { AlertAnnouncer, CommittedAlertEvent, DeadLetter, DeadLetterForwarder } from '../ports.js';

const encoder = new TextEncoder();

export class NatsPublisher implements AlertAnnouncer, DeadLetterForwarder {
  constructor(
    private readonly nc: NatsConnection,
    private readonly dlqSubject: string,
  ) {}

  async announce(events: readonly CommittedAlertEvent[]): Promise<void> {
    for (const e of events) {
      const h = headers();
      h.set('Huitian-Action', e.action);
      h.set('Huitian-Alert-Id', e.alert.id);
      h.set('Huitian-Seq', String(e.seq));
      this.nc.publish(alertSubjectOf(e.alert.category, e.alert.severity), encoder.encode(JSON.stringify({ seq: e.seq, action: e.action, alert: toPublicAlert(e.alert) })), { headers: h });
    }
    await this.nc.flush();
  }

  async forward(letters: readonly DeadLetter[]): Promise<void> {
    for (const d of letters) {
      const h = headers();
      // Header values must be single-line.
      h.set('Huitian-Reason', d.reason.replace(/[\r\n]+/g, ' '));
      h.set('Huitian-Channel', d.channel);
      h.set('Huitian-Received-At', formatRfc3339(d.receivedAt));
      if (d.type !== null) h.set('Huitian-Type', d.type);
      this.nc.publish(this.dlqSubject, encoder.encode(d.payload), { headers: h });
    }
    await this.nc.flush();
  }
}
