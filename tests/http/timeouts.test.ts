/**
 * Server-side timeouts against real slow clients on loopback (issue 9): a client that
 * sends its headers or its body a byte at a time is answered 408 and disconnected once
 * its bound passes, and an idle keep-alive connection is closed — so slow or idle
 * clients cannot hold the server's connections. Nothing here asserts how fast; only that
 * the server, not the client, ends each connection, long before the client would have.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { HLG, waterlogging } from '../helpers/events.js';
import { get, startTestService, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();

const TIMEOUTS = { HUITIAN_HEADERS_TIMEOUT_S: '1', HUITIAN_REQUEST_TIMEOUT_S: '2', HUITIAN_KEEP_ALIVE_TIMEOUT_S: '1' };

async function listening(): Promise<{ port: number; app: Awaited<ReturnType<typeof startTestService>>['app'] }> {
  const ts = await startTestService({ env: TIMEOUTS });
  await ts.app.listen({ port: 0, host: '127.0.0.1' });
  const address = ts.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
  return { port: address.port, app: ts.app };
}

/** A raw TCP client that records what the server sent and whether the server hung up. */
class SlowClient {
  received = '';
  closedByServer = false;
  private dripping: NodeJS.Timeout | undefined;
  readonly closed: Promise<void>;
  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.received += chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        if (this.dripping !== undefined) this.closedByServer = true;
        this.stop();
        resolve();
      }),
    );
  }

  static open(port: number): Promise<SlowClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1' }, () => resolve(new SlowClient(s)));
      s.once('error', reject);
    });
  }

  /** Sends `text` one character every `everyMs`; resolves how many were sent when the server closed. */
  drip(text: string, everyMs: number): { sent: () => number } {
    let i = 0;
    this.dripping = setInterval(() => {
      if (i < text.length && !this.socket.destroyed) this.socket.write(text[i++]!);
    }, everyMs);
    return { sent: () => i };
  }

  stop(): void {
    if (this.dripping !== undefined) clearInterval(this.dripping);
  }
}

describe('server-side timeouts', () => {
  it('answers 408 and disconnects a client that sends its headers a byte at a time', async () => {
    const { port } = await listening();
    const client = await SlowClient.open(port);
    const headers = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(400) + '\r\n\r\n';
    const progress = client.drip(headers, 50); // 20 s to send it all
    await client.closed;
    expect(client.closedByServer).toBe(true);
    expect(client.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(progress.sent()).toBeLessThan(headers.length);
  });

  it('answers 408 and disconnects a client that sends its body at a byte a second, and takes nothing from it', async () => {
    const { port, app } = await listening();
    const body = JSON.stringify(waterlogging('slow-1', 0, 'P1', 30, HLG));
    const client = await SlowClient.open(port);
    client.socket.write(`POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/cloudevents+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    const progress = client.drip(body, 1000);
    await client.closed;
    expect(client.closedByServer).toBe(true);
    expect(client.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(progress.sent()).toBeLessThan(body.length);
    const alerts = await get(app, '/v1/alerts?entityId=P1');
    expect(alerts.json.items).toEqual([]);
  });

  it('closes an idle keep-alive connection after its timeout, and serves a prompt client as usual', async () => {
    const { port } = await listening();
    const client = await SlowClient.open(port);
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    const idle = client.drip('', 1000); // sends nothing: idle after the first answer
    await client.closed;
    expect(idle.sent()).toBe(0);
    expect(client.closedByServer).toBe(true);
    expect(client.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(client.received).not.toContain('408');
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() => loadConfig({ HUITIAN_HEADERS_TIMEOUT_S: '40', HUITIAN_REQUEST_TIMEOUT_S: '30' })).toThrow(
      'HUITIAN_HEADERS_TIMEOUT_S: must be at most HUITIAN_REQUEST_TIMEOUT_S (30), got 40',
    );
  });
});
