/**
 * SIGINT and SIGTERM stop the service in every mode, within a bound, as a real process:
 * `huitian serve` (live and replay) and `huitian demo`, with a dashboard's alert stream
 * open and the output going into a pipe whose reader is gone — what `npm run demo 2>&1 |
 * tee log` leaves behind on Ctrl-C (tee ends with it). That process once closed its port
 * and then hung, ignoring every further signal. A shutdown that cannot finish (a KPI
 * store that never answers) ends after HUITIAN_SHUTDOWN_TIMEOUT_S, and a second signal
 * ends it at once.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { exitWithin, startHuitian as start, useChildCleanup, waitForOutput, type Started } from '../helpers/cli-process.js';
import { HLG, waterlogging } from '../helpers/events.js';
import { useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();
useChildCleanup();
const servers: Server[] = [];

afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** An alert stream left open, as a dashboard keeps it. */
async function openAlertStream(base: string): Promise<AbortController> {
  const abort = new AbortController();
  const res = await fetch(`${base}/v1/alerts/stream`, { signal: abort.signal });
  expect(res.status).toBe(200);
  void res.body!.getReader().read().catch(() => undefined);
  return abort;
}

/** The reader of the process's output goes away, as tee does on Ctrl-C. */
function dropOutput(child: ChildProcess): void {
  child.stdout!.destroy();
  child.stderr!.destroy();
}

describe('SIGINT and SIGTERM stop the service, within a bound', () => {
  for (const [mode, signal] of [
    ['live', 'SIGINT'],
    ['replay', 'SIGTERM'],
  ] as const) {
    it(`huitian serve (${mode}) on ${signal}, with an alert stream open and the output's reader gone`, async () => {
      const s = await start(['serve'], { HUITIAN_TIME_MODE: mode });
      const stream = await openAlertStream(s.base);
      await new Promise((r) => setTimeout(r, 200));
      dropOutput(s.child);
      const sent = Date.now();
      s.child.kill(signal);
      const result = await exitWithin(s, 5000);
      stream.abort();
      expect(result).toMatchObject({ code: 0, signal: null });
      expect((result as { at: number }).at - sent).toBeLessThan(5000);
    });
  }

  it('huitian demo on SIGINT after loading, with its output piped to a reader that is gone', async () => {
    const s = await start(['demo']);
    await waitForOutput(s, 'Ctrl-C stops the service.');
    const stream = await openAlertStream(s.base);
    dropOutput(s.child);
    s.child.kill('SIGINT');
    const result = await exitWithin(s, 5000);
    stream.abort();
    expect(result).toMatchObject({ code: 0, signal: null });
  });

  describe('a shutdown that cannot finish', () => {
    /** An InfluxDB that accepts connections and never answers. */
    async function silentInflux(): Promise<string> {
      const sockets: Socket[] = [];
      const server = createServer((socket) => void sockets.push(socket));
      server.on('close', () => sockets.forEach((x) => x.destroy()));
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    }

    async function stuck(): Promise<Started> {
      const s = await start(['serve'], { HUITIAN_TIME_MODE: 'replay', HUITIAN_INFLUX_URL: await silentInflux(), HUITIAN_SHUTDOWN_TIMEOUT_S: '2' });
      // KPI partials for InfluxDB: the final flush at shutdown waits on it. The ingest
      // itself answers after its own 10 s wait for the store; it is not awaited here.
      const body = [waterlogging('s1', 0, 'P1', 30, HLG), waterlogging('s2', 600, 'P1', 31, HLG)].map((e) => JSON.stringify(e)).join('\n');
      void fetch(`${s.base}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1000));
      return s;
    }

    it('ends after HUITIAN_SHUTDOWN_TIMEOUT_S with status 1', async () => {
      const s = await stuck();
      const sent = Date.now();
      s.child.kill('SIGTERM');
      const result = await exitWithin(s, 6000);
      expect(result).toMatchObject({ code: 1, signal: null });
      const after = (result as { at: number }).at - sent;
      expect(after).toBeGreaterThanOrEqual(1900);
      expect(after).toBeLessThan(6000);
    });

    it('ends at once on a second signal', async () => {
      const s = await stuck();
      s.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      const sent = Date.now();
      s.child.kill('SIGINT');
      const result = await exitWithin(s, 1500);
      expect(result).toMatchObject({ code: 1, signal: null });
      expect((result as { at: number }).at - sent).toBeLessThan(1500);
    });
  });
});
