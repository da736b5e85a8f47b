/** CAP messages of stored alert versions: identifiers from the store (or the cluster's numbers), XML from src/cap. */
import { versionOf, type Alert } from '../alerts/alert.js';
import { renderCapMessage } from '../cap/cap-message.js';
import { HuitianError } from '../errors.js';
import type { CapConfig } from '../notifications/notifications-config.js';
import type { CapMessages } from '../ports.js';

/** A version with no number yet (cluster mode, §10) is CAP_NOT_NUMBERED, never given one here. */
export function capRenderer(store: CapMessages, config: CapConfig, status: CapConfig['status']): (alert: Alert) => string {
  return (alert) => {
    const numbered = store.capNumberOf(alert);
    if (numbered === undefined) throw new HuitianError('CAP_NOT_NUMBERED', { id: alert.id, version: versionOf(alert) });
    return renderCapMessage(alert, { config, status, message: numbered.message, previous: numbered.previous });
  };
}
