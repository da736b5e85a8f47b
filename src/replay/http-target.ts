/**
 * Replays into the HTTP API as NDJSON batches. Honours 429 Retry-After (the ingest rate
 * limit) and retries transient failures with backoff; a 4xx other than 400/429 is a
 * mistake in the invocation (token, URL, body limit) and stops the replay at once.
 */
import { rejectionKindOf } from '../events/rejections.js';
import { ReplayError, type ReplayTarget, type SendResult } from './replay-target.js';

export interface HttpTargetOptions {
  baseUrl: string;
  token?: string;
  /** Called when the server asks to slow down, with the wait in ms. */
  onBackoff?: (ms: number, why: string) => void;
  sleep?: (ms: number) => Promise<void>;
  maxAttempts?: number;
}

interface IngestAnswer {
  accepted?: number;
  duplicates?: number;
  rejected?: number;
  errors?: Array<{ reason?: string }>;
  error?: { code?: string; message?: string };
}

/** `rejected` by kind, from the reasons of the answer's errors[]. */
function rejectedByKind(answer: IngestAnswer): Required<Pick<SendResult, 'late' | 'invalid' | 'future' | 'conflicts'>> {
  const by = { late: 0, invalid: 0, future: 0, conflicts: 0 };
  for (const e of answer.errors ?? []) {
    const kind = rejectionKindOf(typeof e.reason === 'string' ? e.reason : '');
    if (kind === 'conflict') by.conflicts++;
    else by[kind]++;
  }
  return by;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class HttpReplayTarget implements ReplayTarget {
  readonly description: string;
  readonly reportsOutcomes = true;
  private readonly url: string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: HttpTargetOptions) {
    const base = options.baseUrl.replace(/\/+$/, '');
    this.url = `${base}/v1/events`;
    this.description = base;
    this.sleep = options.sleep ?? defaultSleep;
  }

  async send(lines: readonly string[]): Promise<SendResult> {
    const body = lines.join('\n') + '\n';
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    const maxAttempts = this.options.maxAttempts ?? 8;
    let backoff = 250;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(this.url, { method: 'POST', headers, body });
      } catch (err) {
        if (attempt >= maxAttempts) throw new ReplayError(`cannot reach ${this.url}: ${(err as Error).message}`, true);
        this.options.onBackoff?.(backoff, `connection failed (${(err as Error).message})`);
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      const text = await response.text();
      let answer: IngestAnswer = {};
      try {
        answer = JSON.parse(text) as IngestAnswer;
      } catch {
        /* a proxy's HTML error page; the status says enough */
      }
      if (response.status === 202 || response.status === 400) {
        if (response.status === 400 && answer.accepted === undefined) {
          throw new ReplayError(`the server refused the batch: ${answer.error?.message ?? text.slice(0, 200)}`, false);
        }
        return { accepted: answer.accepted ?? 0, duplicates: answer.duplicates ?? 0, rejected: answer.rejected ?? 0, ...rejectedByKind(answer) };
      }
      if (response.status === 429) {
        const retryAfter = Number(response.headers.get('retry-after'));
        const wait = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000;
        this.options.onBackoff?.(wait, 'rate limited (429)');
        await this.sleep(wait);
        continue;
      }
      if (response.status >= 500 && attempt < maxAttempts) {
        this.options.onBackoff?.(backoff, `server error ${response.status}`);
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      throw new ReplayError(`${this.url} answered ${response.status}: ${answer.error?.message ?? text.slice(0, 200)}`, response.status >= 500);
    }
  }

  async close(): Promise<void> {}
}
