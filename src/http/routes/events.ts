/** POST /v1/events: ingest over HTTP (see ingest-body.ts for the encodings). */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HuitianError } from '../../errors.js';
import type { AppDeps } from '../app-deps.js';
import { parseIngestBody, type ParsedBody } from '../ingest-body.js';
import { errorBody, failure, failureWith, ok, route } from '../route-schemas.js';

const reportFields = {
  accepted: z.number().int().describe('Events applied (and durable)'),
  duplicates: z.number().int().describe('Events already seen (same source and id): changed nothing'),
  rejected: z.number().int().describe('Records refused; each is in errors[] and in the dead letters'),
  errors: z.array(
    z.object({
      index: z.number().int().describe('Position of the record in the body (array index or NDJSON record)'),
      id: z.string().nullable().describe('The event id, when it could be read'),
      reason: z.string().describe('The field and the rule, e.g. data.depthCm: must be ≥ 0, or late'),
    }),
  ),
};
const ingestReport = z.object(reportFields).meta({ id: 'IngestReport' });
const ingestRefusal = errorBody
  .extend(z.object(reportFields).partial().shape)
  .meta({ id: 'IngestRefusal', description: 'The error, and the report beside it when the body could be read' });

/** The request body as documented; the route reads the bytes itself (see ingest-body.ts). */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const INGEST_BODY = {
  description:
    'One CloudEvent (structured mode), a JSON array of them (batched), or NDJSON (one per line). In binary mode the ce-* headers carry the attributes and the body is the data, under any content type or none.',
  content: {
    'application/cloudevents+json': ref('CloudEvent'),
    'application/json': { oneOf: [ref('CloudEvent'), { type: 'array', items: ref('CloudEvent') }] },
    'application/cloudevents-batch+json': { type: 'array', items: ref('CloudEvent') },
    'application/x-ndjson': { type: 'string', description: 'One CloudEvent (the CloudEvent schema) per line; blank lines are skipped' },
  },
};

/** How long an HTTP ingest waits for an external KPI store before answering anyway. */
const SINK_WAIT_MS = 10_000;

export function registerEventRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post(
    '/v1/events',
    route({
      operationId: 'ingestEvents',
      summary: 'Ingest CloudEvents (structured, batch, NDJSON or binary mode)',
      description:
        '接收 CloudEvents 事件：单个事件、JSON 数组、NDJSON，或二进制模式（ce-* 请求头携带属性，请求体为 data）。逐条校验，坏记录进入死信而不影响同批的有效事件；有效事件生效并持久化后返回 202。\n\nAccepts one CloudEvent (application/cloudevents+json or application/json), a JSON array (application/cloudevents-batch+json or application/json), NDJSON (application/x-ndjson), or one event in binary mode: `ce-specversion` with the other `ce-*` headers, percent-encoded, and the data as the body — JSON when the content type is absent, application/json or any +json type. 202 {accepted, duplicates, rejected, errors:[{index,id,reason}]} once the accepted events are applied and durable; 400 with the same report beside the error when nothing could be accepted.',
      tags: ['events'],
      action: 'ingest',
      documentedBody: INGEST_BODY,
      rateLimit: deps.config.ingestRateLimit > 0 ? { max: deps.config.ingestRateLimit, timeWindow: 60_000 } : false,
      responses: {
        202: ok(ingestReport, 'The accepted events are applied and durable (cluster mode: on every in-sync replica of their input topic); the report says what happened to every record'),
        400: failureWith(ingestRefusal, 'EVENTS_REJECTED', 'BODY_INVALID', 'VALIDATION_FAILED'),
        503: failure('STORE_UNAVAILABLE', 'SOURCE_UNAVAILABLE'),
      },
    }),
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
        const report = deps.cluster !== undefined ? await deps.cluster.ingest([], rejections) : deps.pipeline.ingest('http', [], rejections, { idleAfter: true });
        return reply.code(400).send({ ...report, ...err.toBody() });
      }
      // An NDJSON body is logged as the bytes received: no re-encoding of a large text.
      const ndjson = parsed.ndjson === undefined ? undefined : bytes;
      // Cluster mode: 202 once Kafka has the events on every in-sync replica (docs/cluster.md §6).
      const report =
        deps.cluster !== undefined
          ? await deps.cluster.ingest(parsed.candidates, parsed.rejections)
          : deps.pipeline.ingest('http', parsed.candidates, parsed.rejections, { idleAfter: true, ndjson });
      if (report.accepted > 0 && deps.cluster === undefined) await waitForSink(deps);
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
