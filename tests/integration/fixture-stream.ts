/**
 * A deterministic three-hour stream that touches every KPI and rule: waterlogging points
 * rising past 15/27/40 cm and receding, lots filling past 95 %, a gas line ramping past
 * 20 and 50 %LEL, utility alarms raised and cleared, and fire/rescue/medical incidents
 * with covered, missed, cancelled and never-dispatched outcomes. A few duplicates and
 * small out-of-order swaps (well inside the 60 s lateness) as real producers make.
 */
export interface FixtureEvent {
  line: string;
  type: string;
  entity: string;
  time: number;
}

const T0 = Date.parse('2026-07-21T06:00:00+08:00');
const DISTRICTS = ['回龙观街道', '天通苑北街道', '霍营街道'];

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

export function fixtureStream(seed = 7, minutes = 180): FixtureEvent[] {
  const rnd = prng(seed);
  const out: FixtureEvent[] = [];
  let n = 0;
  const add = (type: string, source: string, entity: string, t: number, data: Record<string, unknown>) => {
    const id = `fx-${seed}-${++n}`;
    out.push({ type, entity, time: t, line: JSON.stringify({ specversion: '1.0', id, source, type, time: iso(t), subject: entity, data }) });
  };
  for (let m = 0; m < minutes; m++) {
    const t = T0 + m * 60_000;
    // Rain peaks at minute 60; each point has its own sensitivity.
    const rain = Math.max(0, 1 - Math.abs(m - 60) / 50);
    [0.2, 0.5, 0.8, 1.1].forEach((k, i) => {
      const depth = Math.round(rain * 45 * k * 10) / 10;
      add('huitian.waterlogging.reading', '/sensors/waterlogging', `WL-${i}`, t + 5_000 + i * 1000, {
        pointId: `WL-${i}`,
        depthCm: depth,
        district: DISTRICTS[i % 3],
        name: `测试点${i}`,
      });
    });
    if (m % 2 === 0) {
      [300, 800, 120].forEach((capacity, i) => {
        const full = i === 2 && m >= 40 && m < 70 ? 0.97 : 0.6 + 0.3 * Math.sin(m / 30 + i);
        add('huitian.parking.occupancy', '/parking/guidance', `LOT-${i}`, t + 20_000 + i * 500, {
          lotId: `LOT-${i}`,
          capacity,
          occupied: Math.round(capacity * full),
          district: DISTRICTS[i % 3],
        });
      });
    }
    const lel = m < 100 ? 2 : m < 130 ? 2 + (m - 100) * 2 : Math.max(2, 62 - (m - 130) * 3);
    add('huitian.utility.reading', '/utility/scada', 'GAS-1', t + 30_000, { lineId: 'GAS-1', network: 'gas', metric: 'gas_lel_pct', value: lel, district: '霍营街道' });
    if (m === 20) add('huitian.utility.alarm', '/utility/scada', 'PWR-7', t + 40_000, { lineId: 'PWR-7', network: 'power', code: 'E42', state: 'raised', level: 'orange', district: '天通苑北街道' });
    if (m === 90) add('huitian.utility.alarm', '/utility/scada', 'PWR-7', t + 40_000, { lineId: 'PWR-7', network: 'power', code: 'E42', state: 'cleared', district: '天通苑北街道' });
  }
  // Incidents: one every ~5 minutes, outcomes spread by the PRNG.
  for (let k = 0; k * 5 < minutes - 20; k++) {
    const id = `INC-${k}`;
    const r = T0 + k * 5 * 60_000 + Math.floor(rnd() * 60_000);
    const category = (['fire', 'rescue', 'fire', 'medical'] as const)[k % 4];
    const district = DISTRICTS[k % 3]!;
    add('huitian.dispatch.received', '/dispatch/119', id, r, { incidentId: id, category, district });
    if (k % 9 === 8) continue; // never dispatched
    const d = r + 30_000 + Math.floor(rnd() * 60_000);
    const station = ['回龙观西消防站', '天通苑消防站'][k % 2]!;
    add('huitian.dispatch.dispatched', '/dispatch/119', id, d, { incidentId: id, unitId: `U-${k}`, station });
    const travel = k % 7 === 3 ? 300_000 : k % 5 === 4 ? 301_000 : 150_000 + Math.floor(rnd() * 250_000);
    if (k % 11 === 6) {
      add('huitian.dispatch.closed', '/dispatch/119', id, d + 120_000, { incidentId: id, reason: 'cancelled' });
      continue;
    }
    add('huitian.dispatch.arrived', '/dispatch/119', id, d + travel, { incidentId: id, unitId: `U-${k}` });
    add('huitian.dispatch.closed', '/dispatch/119', id, d + travel + 1_200_000, { incidentId: id, reason: 'completed' });
  }
  out.sort((a, b) => a.time - b.time);
  // Producers' habits: a few adjacent swaps (< 60 s apart) and repeats.
  for (let i = 10; i < out.length - 1; i += 37) {
    if (out[i + 1]!.time - out[i]!.time < 20_000) [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
  }
  const withRepeats: FixtureEvent[] = [];
  out.forEach((e, i) => {
    withRepeats.push(e);
    if (i % 53 === 0) withRepeats.push(e);
  });
  return withRepeats;
}

/** Two records no consumer can decode: the DLQ must get them, the KPIs must not. */
export const POISON_LINES = [
  '{"specversion":"1.0","id":"bad-1","source":"/sensors/waterlogging","type":"huitian.waterlogging.reading","time":"2026-07-21T06:30:00+08:00","data":{"pointId":"WL-0","depthCm":-4}}',
  'this is not json',
];
