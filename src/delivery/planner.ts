/**
 * Turns the notification stage's decisions into outbox rows, one per receiver: the JSON
 * body of a webhook / NATS / Kafka receiver, or one CAP 1.2 message per alert for a `cap`
 * receiver. Bodies hold no wall time (the signature's timestamp is added per attempt), so
 * a replay of the same input queues byte-identical deliveries with the same ids.
 */
import { createHash } from 'node:crypto';
import { toPublicAlert } from '../alerts/alert.js';
import type { Notification } from '../notifications/stage.js';
import type { NotificationsConfig } from '../notifications/notifications-config.js';
import type { OutboxDelivery } from '../ports.js';
import { formatInZone } from '../time/time-zone.js';
import type { Alert } from '../alerts/alert.js';

export type CapRenderer = (alert: Alert) => string;

export function deliveryIdOf(notificationId: string, receiver: string, part = ''): string {
  return `dl_${createHash('sha256').update(`${notificationId}\u0000${receiver}\u0000${part}`).digest('hex').slice(0, 24)}`;
}

export class DeliveryPlanner {
  constructor(
    private readonly config: NotificationsConfig,
    private readonly renderCap: CapRenderer,
    /** Zone of the times written (HUITIAN_TIMEZONE), as in the API. */
    private readonly zone: string,
  ) {}

  plan(n: Notification): OutboxDelivery[] {
    const out: OutboxDelivery[] = [];
    for (const receiver of n.receivers) {
      const rc = this.config.receivers[receiver];
      if (rc === undefined) continue;
      if (rc.type === 'cap') {
        // CAP has no batch: one message per alert, named by the alert's id and version.
        for (const item of n.items) {
          out.push({
            deliveryId: deliveryIdOf(n.id, receiver, `${item.alert.id}:${item.version}`),
            notificationId: n.id,
            idempotencyKey: `${item.alert.id}:${item.version}`,
            receiver,
            route: n.route,
            reason: n.reason,
            eventAt: n.at,
            alertIds: [item.alert.id],
            contentType: 'application/cap+xml',
            body: this.renderCap(item.alert),
          });
        }
        continue;
      }
      const deliveryId = deliveryIdOf(n.id, receiver);
      const body = {
        deliveryId,
        idempotencyKey: n.idempotencyKey,
        notificationId: n.id,
        reason: n.reason,
        route: n.route,
        receiver,
        at: formatInZone(n.at, this.zone),
        groupKey: n.groupKey,
        count: n.items.length,
        alerts: n.items.map((i) => ({ action: i.action, actions: i.actions, version: i.version, alert: toPublicAlert(i.alert, this.zone) })),
      };
      out.push({
        deliveryId,
        notificationId: n.id,
        idempotencyKey: n.idempotencyKey,
        receiver,
        route: n.route,
        reason: n.reason,
        eventAt: n.at,
        alertIds: n.items.map((i) => i.alert.id),
        contentType: 'application/json',
        body: JSON.stringify(body),
      });
    }
    return out;
  }
}
