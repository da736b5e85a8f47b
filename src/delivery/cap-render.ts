/** CAP messages of stored alert versions: identifiers from the store, XML from src/cap. */
import { versionOf, type Alert } from '../alerts/alert.js';
import { renderCapMessage } from '../cap/cap-message.js';
import type { CapConfig } from '../notifications/notifications-config.js';
import type { EmbeddedStore } from '../sqlite/embedded-store.js';

export function capRenderer(store: EmbeddedStore, config: CapConfig, status: CapConfig['status']): (alert: Alert) => string {
  return (alert) => {
    const message = store.capMessageOf(alert);
    const v = versionOf(alert);
    let previous: { identifier: string; sent: number } | null = null;
    for (const ref of store.capMessagesOf(alert.id)) if (ref.version < v) previous = ref;
    return renderCapMessage(alert, { config, status, message, previous });
  };
}
