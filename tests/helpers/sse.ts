/** A small Server-Sent Events client over node:http, for tests against a listening server. */
import { request, type IncomingMessage } from 'node:http';

export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  private buffer = '';
  /** Everything received, for the JSON error of a refused stream. */
  private text = '';
  private readonly ended: Promise<void>;
  private waiters: Array<() => void> = [];
  private closed = false;

  private constructor(
    readonly response: IncomingMessage,
    private readonly destroy: () => void,
  ) {
    response.setEncoding('utf8');
    this.ended = new Promise((resolve) => response.on('end', resolve));
    response.on('data', (chunk: string) => {
      this.text += chunk;
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) >= 0) {
        this.parse(this.buffer.slice(0, end));
        this.buffer = this.buffer.slice(end + 2);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Opens a stream; resolves once the response headers arrived. */
  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        resolve(new SseClient(res, () => req.destroy()));
      });
      req.on('error', reject);
      req.end();
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  /** The whole body, once the server ended it (a refused stream's JSON error). */
  async body(): Promise<string> {
    await this.ended;
    return this.text;
  }

  /** The parsed `alert` events' ids, as numbers. */
  get ids(): number[] {
    return this.events.map((e) => Number(e.id));
  }

  private parse(block: string): void {
    const e: SseEvent = { id: undefined, event: undefined, data: '' };
    let hasField = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') e.id = value;
      else if (field === 'event') e.event = value;
      else if (field === 'data') e.data = e.data === '' ? value : `${e.data}\n${value}`;
      else continue;
      hasField = true;
    }
    if (hasField) this.events.push(e);
  }

  /** Waits until `predicate` holds (checked on every chunk), or fails after `timeoutMs`. */
  async until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`SSE: condition not met in ${timeoutMs} ms; got ids ${JSON.stringify(this.ids)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for `n` events in all. */
  untilEvents(n: number, timeoutMs?: number): Promise<void> {
    return this.until(() => this.events.length >= n, timeoutMs);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.destroy();
  }
}
