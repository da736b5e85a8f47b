/**
 * `alert_ack_seconds_mean`: mean seconds from an alert's opening to its first
 * acknowledgement, by alert category, attributed to the minute of the acknowledgement.
 * Both times are event time (the acknowledgement is stamped with the stream's clock),
 * so a replay measures the operators as they were.
 *
 * Partial family `alert_ack`, tags {category}, fields: ack_seconds_sum, ack_count.
 */
import type { Alert } from '../alerts/alert.js';
import type { MeanKpi } from './kpi-definition.js';
import { bucketOf, type PartialBuffer } from './partials.js';

export const ALERT_ACK_FAMILY = 'alert_ack';

export const alertAckSecondsMean: MeanKpi = {
  name: 'alert_ack_seconds_mean',
  title: '告警平均确认时长',
  titleEn: 'Mean time to acknowledge an alert',
  unit: 's',
  target: null,
  targetDirection: null,
  targetBasis: '无目标：行动计划未规定告警确认时长，应由运营指挥中心按其值班制度设定。',
  targetBasisEn: "No target: the action plan sets none for acknowledging alerts; the operations centre's duty rules should.",
  kind: 'mean',
  family: ALERT_ACK_FAMILY,
  groupTags: ['category'],
  sumField: 'ack_seconds_sum',
  countField: 'ack_count',
  description: '告警从产生到首次确认的平均秒数，按告警类别，归属确认时间所在分钟。',
  descriptionEn: 'Mean seconds from opening to first acknowledgement, by alert category, attributed to the minute of the acknowledgement.',
};

export function recordAcknowledgement(partials: PartialBuffer, alert: Alert, acknowledgedAt: number): void {
  const seconds = Math.max(0, (acknowledgedAt - alert.openedAt) / 1000);
  partials.add(ALERT_ACK_FAMILY, bucketOf(acknowledgedAt), { category: alert.category }, { ack_seconds_sum: seconds, ack_count: 1 });
}
