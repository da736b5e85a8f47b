/**
 * JSON Schemas (draft 2020-12) of every event type, generated from the zod schemas in
 * schemas.ts for producers written in other languages. `npm run schemas` writes them to
 * `schemas/`; tests/events/json-schemas.test.ts fails when the committed files drift.
 *
 * What JSON Schema cannot say is written into `description`: that the time must exist on
 * the calendar (the pattern lets 2026-02-30 through; the decoder does not), and the
 * per-metric value ranges of utility readings, which are a zod refinement. The ranges
 * are also added as `if`/`then` clauses so that a standard validator enforces them.
 */
import { z } from 'zod';
import { DATA_SCHEMAS, envelopeSchema, EVENT_TYPES, UTILITY_METRIC_RANGES, UTILITY_METRICS, type EventType } from './schemas.js';

/** Base of every schema's `$id`: a URN, because the schemas are not served from a URL. */
export const SCHEMA_ID_PREFIX = 'urn:huitian-brain:schema:';

const TITLES: Record<EventType, string> = {
  'huitian.waterlogging.reading': '积水监测读数 Waterlogging reading',
  'huitian.utility.reading': '地下管线监测读数 Utility line reading',
  'huitian.utility.alarm': '地下管线报警 Utility line alarm',
  'huitian.parking.occupancy': '停车场占用 Parking occupancy',
  'huitian.dispatch.received': '接警 Incident received',
  'huitian.dispatch.dispatched': '出动指令 Unit dispatched',
  'huitian.dispatch.arrived': '到场 Unit arrived',
  'huitian.dispatch.closed': '警情结束 Incident closed',
};

const ENVELOPE_NOTE =
  'A CloudEvents 1.0 event in structured JSON mode. `time` is required (CloudEvents makes it optional) and is the event time every KPI and alert is computed in. `id` + `source` identify the event: a repeat is a duplicate and changes nothing.';

const TIME_NOTE =
  'RFC 3339 date-time with a mandatory offset (Z or ±hh:mm). Beyond the pattern, the date and time must exist: 2026-02-30, 24:00:00 or an offset hour above 23 are refused.';

function metricRangeText(): string {
  return UTILITY_METRICS.map((m) => `${m} [${UTILITY_METRIC_RANGES[m][0]}, ${UTILITY_METRIC_RANGES[m][1]}]`).join(', ');
}

/** The per-metric ranges of `value`, as JSON Schema conditionals. */
function metricRangeClauses(): object[] {
  return UTILITY_METRICS.map((metric) => {
    const [minimum, maximum] = UTILITY_METRIC_RANGES[metric];
    return {
      if: { properties: { metric: { const: metric } }, required: ['metric'] },
      then: { properties: { value: { minimum, maximum } } },
    };
  });
}

function schemaOf(type: EventType): Record<string, unknown> {
  const generated = z.toJSONSchema(envelopeSchema(z.literal(type), DATA_SCHEMAS[type]), {
    target: 'draft-2020-12',
    // The input side: unknown `data` fields are accepted (and dropped), as the decoder does.
    io: 'input',
    unrepresentable: 'throw',
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  const properties = rest.properties as Record<string, Record<string, unknown>>;
  properties.time = { ...properties.time, description: TIME_NOTE };
  let description = ENVELOPE_NOTE;
  if (type === 'huitian.utility.reading') {
    const note = `\`value\` must lie within the range of its \`metric\`: ${metricRangeText()}.`;
    properties.data = { ...properties.data, description: note, allOf: metricRangeClauses() };
    description += ` In \`data\`, ${note}`;
  }
  return { $schema, $id: `${SCHEMA_ID_PREFIX}${type}`, title: TITLES[type], description, ...rest };
}

/** File name (in `schemas/`) → JSON Schema, for every event type. */
export function generateJsonSchemas(): Record<string, Record<string, unknown>> {
  const files: Record<string, Record<string, unknown>> = {};
  for (const type of EVENT_TYPES) files[`${type}.json`] = schemaOf(type);
  return files;
}

/** `schemas/README.md`: what the files are and how they are made. */
export function schemasReadme(): string {
  const rows = EVENT_TYPES.map((type) => `| \`${type}\` | [\`${type}.json\`](${type}.json) | ${TITLES[type]} |`);
  return [
    '# Event schemas',
    '',
    'JSON Schemas (draft 2020-12) of the CloudEvents this service accepts, one file per event type.',
    'They are generated from the zod schemas in `src/events/schemas.ts`, which are the source of',
    'truth: do not edit these files, run `npm run schemas`. `tests/events/json-schemas.test.ts`',
    'fails when they drift.',
    '',
    '| type | schema | title |',
    '|---|---|---|',
    ...rows,
    '',
    'What the schemas cannot express is written into their `description`: the event time must',
    'exist on the calendar (the pattern admits 2026-02-30), and a utility reading’s `value` must',
    `lie within its metric’s range (${metricRangeText()}; also given as \`if\`/\`then\` clauses).`,
    'The service itself also refuses duplicates (same `source` and `id`) and events older than',
    'its watermark, which no schema can check.',
    '',
  ].join('\n');
}

/**
 * The event schemas as OpenAPI 3.1 components (POST /v1/events documents its body with
 * them): one per type, named `CloudEvent.<type>`, and `CloudEvent`, any of them by `type`.
 */
export function eventComponents(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const mapping: Record<string, string> = {};
  for (const type of EVENT_TYPES) {
    const { $schema: _schema, $id: _id, ...schema } = schemaOf(type);
    out[`CloudEvent.${type}`] = schema;
    mapping[type] = `#/components/schemas/CloudEvent.${type}`;
  }
  out.CloudEvent = {
    description: ENVELOPE_NOTE,
    oneOf: Object.values(mapping).map(($ref) => ({ $ref })),
    discriminator: { propertyName: 'type', mapping },
  };
  return out;
}
