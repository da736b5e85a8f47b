/**
 * Checkpoints that do not hold the event loop (issue 9): the state is captured at once and
 * its chunks are written over later event-loop turns, so the request that triggers one is
 * answered before it is written; whenever the process dies — before, during or after the
 * writing — a restart recovers exactly the state it had; a data file with a snapshot of
 * the earlier JSON format still recovers, and is moved to chunks.
 */
import { copyFileSync, cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { DB_FILE, openDatabase } from '../../src/sqlite/database.js';
import { EmbeddedStore } from '../../src/sqlite/embedded-store.js';
import { cloudEvent, HLG, T0 } from '../helpers/events.js';
import { engineConfig } from '../helpers/engine-run.js';
import { get, ManualClock, postEvents, startTestService, tempDir, useServiceCleanup, type TestService } from '../helpers/service.js';

useServiceCleanup();

const ENV = { HUITIAN_SNAPSHOT_INTERVAL_S: '60' };

const readings = (from: number, n: number) =>
  Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return { ...cloudEvent('huitian.waterlogging.reading', `r-${i}`, 0, { pointId: `P${i % 1500}`, depthCm: (i * 7) % 45, district: HLG }, '/sensors/waterlogging'), time: new Date(T0 + i * 100).toISOString() };
  });

/** Copies a running service's data directory — the SQLite files, then the snapshot files — as a crash would leave it. */
function copyDataDir(from: string): string {
  const to = tempDir('huitian-crash-');
  for (const suffix of ['', '-wal', '-shm']) {
    const file = join(from, `${DB_FILE}${suffix}`);
    if (existsSync(file)) copyFileSync(file, join(to, `${DB_FILE}${suffix}`));
  }
  if (existsSync(join(from, 'snapshots'))) cpSync(join(from, 'snapshots'), join(to, 'snapshots'), { recursive: true });
  return to;
}

async function checkpointWritten(ts: TestService): Promise<void> {
  while (ts.service.pipeline.checkpointStats().inProgress) await new Promise((r) => setImmediate(r));
}

async function state(ts: TestService) {
  return {
    engine: ts.service.pipeline.engine.snapshot(),
    alerts: (await get(ts.app, '/v1/alerts?limit=500')).json,
  };
}

function probe(dataDir: string) {
  const store = new EmbeddedStore(openDatabase(dataDir));
  try {
    const r = store.recovery();
    return { snapshot: r.snapshot, log: [...r.log].length };
  } finally {
    store.close();
  }
}

describe('checkpoints written over event-loop turns', () => {
  it('answer the request that triggers one before writing it, and leave a chunked snapshot and only the log after its capture', async () => {
    const clock = new ManualClock();
    const ts = await startTestService({ env: ENV, clock });
    for (let b = 0; b < 4; b++) expect((await postEvents(ts.app, readings(b * 1000, 1000))).status).toBe(202);
    expect(ts.service.pipeline.checkpointStats().written).toBe(0);
    clock.advance(61_000);
    expect((await postEvents(ts.app, readings(4000, 10))).status).toBe(202);
    // Answered, and the checkpoint it triggered is not written yet: it waits for later turns.
    expect(ts.service.pipeline.checkpointStats()).toMatchObject({ inProgress: true, written: 0 });
    const crashedBefore = copyDataDir(ts.dataDir);
    // Input goes on while it is written.
    const during = postEvents(ts.app, readings(4010, 10));
    await checkpointWritten(ts);
    expect((await during).status).toBe(202);
    const stats = ts.service.pipeline.checkpointStats();
    expect(stats.written).toBe(1);
    expect(stats.last!.chunks).toBeGreaterThan(2);

    const onDisk = probe(copyDataDir(ts.dataDir));
    expect(Array.isArray(onDisk.snapshot)).toBe(true);
    expect((onDisk.snapshot as Uint8Array[]).length).toBe(stats.last!.chunks);
    // The batch posted while it was written came after the capture: it stays in the log.
    expect(onDisk.log).toBe(1);

    const live = await state(ts);
    for (const dir of [crashedBefore, copyDataDir(ts.dataDir)]) {
      const crashedState = probe(dir);
      expect(crashedState.snapshot === null || Array.isArray(crashedState.snapshot)).toBe(true);
      const b = await startTestService({ env: ENV, dataDir: dir, clock: new ManualClock(clock.ms) });
      if (dir === crashedBefore) {
        // That copy was taken before the last batch: feed it the same.
        expect((await postEvents(b.app, readings(4010, 10))).status).toBe(202);
      }
      expect(await state(b)).toEqual(live);
      await b.stop();
    }
  });

  it('recover from a checkpoint left half-written: its file is ignored and deleted, the one before and the log still hold', async () => {
    const dir = tempDir();
    const store = new EmbeddedStore(openDatabase(dir));
    const unit = (now: number) => ({ log: { kind: 'tick' as const, now }, partials: [], alerts: [], deadLetters: [] });
    const engine = new Engine(engineConfig());
    const chunks = () => {
      const c = engine.checkpoint();
      const out: Uint8Array[] = [];
      for (let x = c.next(); x !== undefined; x = c.next()) out.push(x);
      return out;
    };
    store.commit(unit(1));
    const first = store.beginSnapshot();
    store.commit(unit(2)); // logged while the first is written: after its capture
    const file = await store.snapshots.create(first.generation);
    await file.append(chunks());
    await file.finish();
    store.finishSnapshot(first, 2);
    let r = store.recovery();
    expect([Array.isArray(r.snapshot), [...r.log].map((e) => e.entry)]).toEqual([true, [{ kind: 'tick', now: 2 }]]);

    const second = store.beginSnapshot();
    expect(second.generation).toBe(first.generation + 1);
    const half = await store.snapshots.create(second.generation);
    await half.append(chunks().slice(0, 1));
    store.commit(unit(3));
    store.close();
    // The process died here: the half-written file is not what recovery reads, and goes.
    expect(store.snapshots.generations().sort()).toEqual([first.generation, second.generation]);
    const reopened = new EmbeddedStore(openDatabase(dir));
    r = reopened.recovery();
    expect(r.snapshot).toEqual(chunks().map((c) => Buffer.from(c)));
    expect([...r.log].map((e) => e.entry)).toEqual([
      { kind: 'tick', now: 2 },
      { kind: 'tick', now: 3 },
    ]);
    expect(reopened.snapshots.generations()).toEqual([first.generation]);
    reopened.close();
  });

  it('recover after a shutdown snapshot taken while a checkpoint was begun but its file not yet opened', async () => {
    // The interleaving that made a restart fail with "engine snapshot has no chunks": the
    // checkpoint in slices takes a generation, the shutdown writes its own at once, then the
    // slow job's open (which truncates) and its abandon (which deletes) arrive.
    const dir = tempDir();
    const store = new EmbeddedStore(openDatabase(dir));
    const engine = new Engine(engineConfig());
    const chunks = () => {
      const c = engine.checkpoint();
      const out: Uint8Array[] = [];
      for (let x = c.next(); x !== undefined; x = c.next()) out.push(x);
      return out;
    };
    store.commit({ log: { kind: 'tick', now: 1 }, partials: [], alerts: [], deadLetters: [] });
    const inSlices = store.beginSnapshot();
    store.writeSnapshotChunks(chunks(), 2);
    const late = await store.snapshots.create(inSlices.generation);
    await late.abandon();
    store.close();
    const reopened = new EmbeddedStore(openDatabase(dir));
    const r = reopened.recovery();
    expect(r.snapshot).toEqual(chunks().map((c) => Buffer.from(c)));
    expect([...r.log]).toEqual([]);
    reopened.close();
  });

  it('recover a data file whose snapshot is the earlier single JSON, and move it to chunks', async () => {
    const a = await startTestService({ env: ENV });
    expect((await postEvents(a.app, readings(0, 2000))).status).toBe(202);
    const live = await state(a);
    const dir = copyDataDir(a.dataDir);
    const store = new EmbeddedStore(openDatabase(dir));
    store.writeSnapshot(JSON.stringify(a.service.pipeline.engine.snapshot()), 0);
    store.close();
    const before = probe(dir);
    expect([Array.isArray(before.snapshot), before.log]).toEqual([false, 0]);
    const b = await startTestService({ env: ENV, dataDir: dir });
    expect(await state(b)).toEqual(live);
    await b.stop();
    expect(Array.isArray(probe(dir).snapshot)).toBe(true);
  });
});
