/**
 * `GET /v1/alerts/stream`: Server-Sent Events, one `alert` event per transition, with
 * the transition's feed sequence as the SSE `id`. A client that reconnects with
 * `Last-Event-ID` (EventSource does this by itself) first gets every transition it
 * missed, from the store, then the live ones, with no gap and no repeat.
 *
 * The hub is an AlertAnnouncer: the pipeline announces transitions after they are
 * committed, so everything sent here is already in the store.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toPublicAlert } from '../alerts/alert.js';
import type { Alert } from '../alerts/alert.js';
import type { AlertAnnouncer, AlertReader, AlertStreamFilter, CommittedAlertEvent } from '../ports.js';

const HEARTBEAT_MS = 15_000;
const BACKLOG_PAGE = 500;

type Subscriber = (events: readonly CommittedAlertEvent[]) => void;

export class AlertStreamHub implements AlertAnnouncer {
  private readonly subscribers = new Set<Subscriber>();
  /** Ends each open stream; a stream never ends by itself, so shutdown must end it. */
  private readonly enders = new Set<() => void>();

  get clientCount(): number {
    return this.subscribers.size;
  }

  announce(events: readonly CommittedAlertEvent[]): void {
    for (const s of this.subscribers) s(events);
  }

  subscribe(s: Subscriber): () => void {
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }

  /** Registers how to end an open stream; returns the unregistration. */
  track(end: () => void): () => void {
    this.enders.add(end);
    return () => this.enders.delete(end);
  }

  /**
   * Ends every open stream (server shutdown). Without this, closing the server waits
   * for the clients to hang up, and a dashboard left open would hold `huitian serve`
   * after Ctrl-C forever. Clients reconnect with Last-Event-ID and miss nothing.
   */
  endAll(): void {
    for (const end of [...this.enders]) end();
  }
}

export function formatSse(e: CommittedAlertEvent, zone: string): string {
  return `id: ${e.seq}\nevent: alert\ndata: ${JSON.stringify({ action: e.action, version: e.alert.history.length, alert: toPublicAlert(e.alert, zone) })}\n\n`;
}

/** The list's filters, applied to each transition's alert (the stream has no `status`: a screen of active alerts needs the resolutions). */
export function matchesFilter(a: Alert, f: AlertStreamFilter): boolean {
  return (
    (f.severity === undefined || a.severity === f.severity) &&
    (f.category === undefined || a.category === f.category) &&
    (f.district === undefined || a.district === f.district) &&
    (f.entityId === undefined || a.entityId === f.entityId)
  );
}

/** `zone`: the zone the alerts' times are written in (HUITIAN_TIMEZONE). */
export function streamAlerts(hub: AlertStreamHub, store: AlertReader, request: FastifyRequest, reply: FastifyReply, zone: string, filter: AlertStreamFilter = {}): void {
  const header = request.headers['last-event-id'];
  const query = (request.query as { lastEventId?: string }).lastEventId;
  const resumeText = (Array.isArray(header) ? header[0] : header) ?? query;
  const resumeFrom = resumeText !== undefined && /^\d+$/.test(resumeText) ? Number(resumeText) : null;

  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  // Without Last-Event-ID the stream starts now: earlier transitions are in GET /v1/alerts.
  // An id beyond the end of the feed was not issued by this store (a client that watched
  // an earlier data directory): resuming after it would hold back every transition until
  // the feed caught up with it, so it resumes at the end instead.
  const end = store.lastAlertEventSeq();
  let lastSent = resumeFrom === null ? end : Math.min(resumeFrom, end);
  const pending: CommittedAlertEvent[] = [];
  let replaying = true;
  const send = (e: CommittedAlertEvent) => {
    if (e.seq <= lastSent) return;
    lastSent = e.seq;
    // A filtered-out transition still moves the resume point, so Last-Event-ID stays exact.
    if (matchesFilter(e.alert, filter)) res.write(formatSse(e, zone));
  };
  // Subscribe before reading the backlog so nothing committed in between is missed.
  const unsubscribe = hub.subscribe((events) => {
    if (replaying) pending.push(...events);
    else for (const e of events) send(e);
  });
  res.write(`retry: 2000\n: connected, resuming after ${lastSent}\n\n`);
  for (;;) {
    const page = store.alertEventsAfter(lastSent, BACKLOG_PAGE);
    for (const e of page) send(e);
    if (page.length < BACKLOG_PAGE) break;
  }
  replaying = false;
  for (const e of pending.splice(0)) send(e);
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  let untrack = () => {};
  const close = () => {
    clearInterval(heartbeat);
    unsubscribe();
    untrack();
  };
  untrack = hub.track(() => {
    close();
    res.end();
  });
  request.raw.on('close', close);
  res.on('error', close);
}
