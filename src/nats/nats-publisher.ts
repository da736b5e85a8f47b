/**
 * What the service publishes on NATS: every alert transition on
 * huitian.alerts.<category>.<severity> (after the alert store has it), and invalid
 * records on huitian.dlq with the reason in a header.
 */
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { toPublicAlert } from '../alerts/alert.js';
import { alertSubjectOf } from '../events/routing.js';
import type { AlertAnnouncer, CommittedAlertEvent, DeadLetter, DeadLetterForwarder } from '../ports.js';
import { formatInZone } from '../time/time-zone.js';

const encoder = new TextEncoder();

export class NatsPublisher implements AlertAnnouncer, DeadLetterForwarder {
  constructor(
    private readonly nc: NatsConnection,
    private readonly dlqSubject: string,
    /** Zone of the times written (HUITIAN_TIMEZONE), as in the API. */
    private readonly zone: string,
  ) {}

  async announce(events: readonly CommittedAlertEvent[]): Promise<void> {
    for (const e of events) {
      const h = headers();
      h.set('Huitian-Action', e.action);
      h.set('Huitian-Alert-Id', e.alert.id);
      h.set('Huitian-Seq', String(e.seq));
      this.nc.publish(alertSubjectOf(e.alert.category, e.alert.severity), encoder.encode(JSON.stringify({ seq: e.seq, version: e.alert.history.length, action: e.action, alert: toPublicAlert(e.alert, this.zone) })), { headers: h });
    }
    await this.nc.flush();
  }

  async forward(letters: readonly DeadLetter[]): Promise<void> {
    for (const d of letters) {
      const h = headers();
      // Header values must be single-line.
      h.set('Huitian-Reason', d.reason.replace(/[\r\n]+/g, ' '));
      h.set('Huitian-Channel', d.channel);
      h.set('Huitian-Received-At', formatInZone(d.receivedAt, this.zone));
      if (d.type !== null) h.set('Huitian-Type', d.type);
      this.nc.publish(this.dlqSubject, encoder.encode(d.payload), { headers: h });
    }
    await this.nc.flush();
  }
}
