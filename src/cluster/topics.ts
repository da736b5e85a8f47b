/**
 * Internal topics of a cluster (docs/cluster.md §2), named after the consumer group as
 * Kafka Streams names them after its application id, created with the settings they
 * need when missing and checked when present.
 */
import kafkajs, { type Admin } from 'kafkajs';

// kafkajs is CommonJS; this export is not seen as a named export by Node's ESM loader.
const { ConfigResourceTypes } = kafkajs;
import type { Logger } from 'pino';
import { HuitianError } from '../errors.js';

export interface ClusterTopics {
  tasks: string;
  alerts: string;
  partials: string;
  global: string;
  /** The notification stage's deliveries, their outcomes and the silences (docs/cluster.md §10). */
  notifications: string;
}

export function clusterTopicsOf(group: string): ClusterTopics {
  return { tasks: `${group}.tasks`, alerts: `${group}.alerts`, partials: `${group}.partials`, global: `${group}.global`, notifications: `${group}.notifications` };
}

interface TopicSpec {
  topic: string;
  partitions: number;
  /** Exact partition count required (the global stage has one owner because it has one partition). */
  exactPartitions: boolean;
  configs: Record<string, string>;
  /** Settings a present topic must have. */
  required: Record<string, string>;
}

export const INTERNAL_PARTITIONS = 6;

export function topicSpecs(t: ClusterTopics, withPartials: boolean): TopicSpec[] {
  const compact = { 'cleanup.policy': 'compact' };
  const specs: TopicSpec[] = [
    {
      topic: t.tasks,
      partitions: INTERNAL_PARTITIONS,
      exactPartitions: false,
      configs: { ...compact, 'min.cleanable.dirty.ratio': '0.1', 'segment.ms': '600000' },
      required: compact,
    },
    { topic: t.alerts, partitions: INTERNAL_PARTITIONS, exactPartitions: false, configs: compact, required: compact },
    { topic: t.notifications, partitions: INTERNAL_PARTITIONS, exactPartitions: false, configs: compact, required: compact },
    {
      topic: t.global,
      partitions: 1,
      exactPartitions: true,
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * 24 * 3600_000) },
      required: { 'cleanup.policy': 'delete' },
    },
  ];
  if (withPartials) specs.push({ topic: t.partials, partitions: INTERNAL_PARTITIONS, exactPartitions: false, configs: compact, required: compact });
  return specs;
}

/** Creates missing internal topics and checks the present ones; throws CONFIG_INVALID naming every mismatch. */
export async function ensureClusterTopics(admin: Admin, specs: readonly TopicSpec[], inputs: readonly string[], log: Logger): Promise<Map<string, number>> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    try {
      // No waitForLeaders: kafkajs gives up on UNKNOWN_TOPIC_OR_PARTITION while a topic that
      // another instance created a moment ago propagates; the metadata loop below waits instead.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (err) {
      // Another instance starting at the same moment may have created them first.
      if (!/already exists/i.test((err as Error).message)) throw err;
    }
    log.info({ topics: missing.map((s) => s.topic) }, 'created internal kafka topics');
  }
  const problems: string[] = [];
  const missingInputs = inputs.filter((t) => !existing.has(t));
  if (missingInputs.length > 0) {
    await admin.createTopics({ waitForLeaders: false, topics: missingInputs.map((topic) => ({ topic, numPartitions: INTERNAL_PARTITIONS })) }).catch((err: Error) => {
      if (!/already exists/i.test(err.message)) throw err;
    });
    log.info({ topics: missingInputs }, 'created missing input topics');
  }
  // Topics created a moment ago may not have their metadata everywhere yet.
  const retry = async <T>(f: () => Promise<T>): Promise<T> => {
    for (let i = 0; ; i++) {
      try {
        return await f();
      } catch (err) {
        if (i >= 60) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };
  const meta = await retry(async () => {
    const m = await admin.fetchTopicMetadata({ topics: [...specs.map((s) => s.topic), ...inputs] });
    // Created by another instance a moment ago: wait for every partition's leader.
    for (const t of m.topics) for (const p of t.partitions) if (p.leader < 0 || p.partitionErrorCode !== 0) throw new Error(`topic ${t.name} partition ${p.partitionId} has no leader yet`);
    return m;
  });
  const partitions = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
  const described = await retry(() =>
    admin.describeConfigs({
      includeSynonyms: false,
      resources: specs.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.topic, configNames: Object.keys(s.required) })),
    }),
  );
  for (const spec of specs) {
    const n = partitions.get(spec.topic) ?? 0;
    if (spec.exactPartitions && n !== spec.partitions) problems.push(`topic ${spec.topic} has ${n} partitions; it needs exactly ${spec.partitions} (delete and let the service create it)`);
    const resource = described.resources.find((r) => r.resourceName === spec.topic);
    for (const [name, want] of Object.entries(spec.required)) {
      const got = resource?.configEntries.find((c) => c.configName === name)?.configValue;
      if (got !== want) problems.push(`topic ${spec.topic} has ${name}=${String(got)}; it needs ${name}=${want} (kafka-configs --alter --entity-type topics --entity-name ${spec.topic} --add-config ${name}=${want})`);
    }
  }
  if (problems.length > 0) throw new HuitianError('CONFIG_INVALID', { details: problems.join('; ') });
  return partitions;
}
