/**
 * A real HTTP receiver on 127.0.0.1 for the delivery tests: records every call (headers
 * and raw body), answers what the test scripts (fail the first calls with 503 and a
 * Retry-After, refuse, …) and can be taken down and brought back on the same port.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCall {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
}

export class TestReceiver {
  readonly calls: ReceivedCall[] = [];
  /** Status for the next calls, consumed one per call; then 200. */
  readonly script: Array<{ status: number; retryAfter?: string }> = [];
  private server: Server | undefined;
  port = 0;
  /** Takes calls and never answers them (a receiver that hangs until the caller's timeout). */
  hang = false;

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.hang) return;
        const step = this.script.shift();
        const status = step?.status ?? 200;
        this.calls.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
        const headers: Record<string, string> = { connection: 'close' };
        if (step?.retryAfter !== undefined) headers['retry-after'] = step.retryAfter;
        res.writeHead(status, headers).end(status === 200 ? 'ok' : 'nope');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Down: the port refuses connections until `start(port)` again. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Calls answered 2xx. */
  accepted(): ReceivedCall[] {
    return this.calls.filter((c) => c.status >= 200 && c.status < 300);
  }
}
