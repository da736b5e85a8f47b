/** POST /v1/events: ingest over HTTP (see ingest-body.ts for the encodings). */
import type { FastifyInstance } from 'fastify';
import { HuitianError } from '../../errors.js';
import type { AppDeps } from '../app-deps.js';
import { parseIngestBody, type ParsedBody } from '../ingest-body.js';

/** How long an HTTP ingest waits for an external KPI store before answering anyway. */
const SINK_WAIT_MS = 10_000;

export function registerEventRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post(
    '/v1/events',
    {
      config: { action: 'ingest', rateLimit: deps.config.ingestRateLimit > 0 ? { max: deps.config.ingestRateLimit, timeWindow: 60_000 } : false },
      schema: {
        tags: ['events'],
        summary: 'Ingest CloudEvents (structured, batch, NDJSON or binary mode)',
        description:
          'Accepts one CloudEvent (application/cloudevents+json or application/json), a JSON array (application/cloudevents-batch+json), NDJSON (application/x-ndjson), or one event in binary mode (ce-* headers, data as the body). 202 {accepted, duplicates, rejected, errors:[{index,id,reason}]} once the accepted events are applied and durable; 400 with the same body when nothing could be accepted.',
      },
    },
    async (request, reply) => {
      const bytes = Buffer.isBuffer(request.body) ? request.body : undefined;
      const body = bytes === undefined ? '' : bytes.toString('utf8');
      let parsed: ParsedBody;
      try {
        parsed = parseIngestBody(body, request.headers['content-type'], request.headers);
      } catch (err) {
        if (!(err instanceof HuitianError) || err.code !== 'BODY_INVALID') throw err;
        // A body that cannot be read at all is one rejected record: dead-lettered like any
        // other and answered in the same shape, so a producer reads every 400 one way.
        const rejections =
          body.trim() === '' ? [] : [{ index: 0, id: null, type: null, reason: `(body): ${String(err.details)}`, raw: body }];
        const report = deps.pipeline.ingest('http', [], rejections, { idleAfter: true });
        return reply.code(400).send({ ...report, ...err.toBody() });
      }
      // An NDJSON body is logged as the bytes received: no re-encoding of a large text.
      const ndjson = parsed.ndjson === undefined ? undefined : bytes;
      const report = deps.pipeline.ingest('http', parsed.candidates, parsed.rejections, { idleAfter: true, ndjson });
      if (report.accepted > 0) await waitForSink(deps);
      // 400 when nothing went in and something was refused: a producer must not read a batch
      // of late or invalid events (beside, at most, repeats) as taken. A batch of nothing but
      // repeats refused nothing — the retry of an accepted batch — and stays 202.
      if (report.accepted === 0 && (report.rejected > 0 || report.duplicates === 0)) {
        const error = new HuitianError('EVENTS_REJECTED');
        return reply.code(400).send({ ...report, ...error.toBody() });
      }
      return reply.code(202).send(report);
    },
  );
}

/**
 * With InfluxDB as the KPI store, a 202 should mean a KPI query already sees the events,
 * so the answer waits for the write — but only so long: the events are durable in the
 * embedded store's outbox either way, and a down InfluxDB must not hang every producer.
 */
async function waitForSink(deps: AppDeps): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SINK_WAIT_MS);
  });
  try {
    await Promise.race([deps.pipeline.flushSink().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
