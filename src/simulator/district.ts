/**
 * Typed access to the district's reference data (`huitian-district.json`).
 *
 * The data is a JSON file, not code, so that a planner can review or correct a name,
 * coordinate or capacity without reading TypeScript. It is imported as a JSON module
 * (`with { type: 'json' }`): tsc (`resolveJsonModule`, NodeNext) type-checks the import
 * and copies the file into dist/ beside the compiled modules, Node ≥ 20.10 loads it
 * natively, and vitest/tsx read it from src/. It is checked against a zod schema once
 * at load, so a bad edit fails with the path of the bad field rather than as a strange
 * stream.
 */
import { z } from 'zod';
import { UTILITY_METRICS, UTILITY_NETWORKS } from '../events/schemas.js';
import raw from './huitian-district.json' with { type: 'json' };

const lon = z.number().min(116.25).max(116.5);
const lat = z.number().min(40.0).max(40.15);
const id = z.string().regex(/^[A-Z][A-Z0-9-]*$/);
const name = z.string().min(1);

const districtSchema = z.object({ name, lon, lat, populationWeight: z.number().positive(), known: z.boolean() });
const stationSchema = z.object({ id, name, lon, lat, units: z.number().int().min(1).max(9), known: z.boolean() });
const pointSchema = z.object({
  id,
  name,
  district: name,
  lon,
  lat,
  /** Peak depth this point reaches in a scenario's storm (see scenarios/rainstorm.ts). */
  designPeakCm: z.number().min(0).max(200),
  /** e-folding time of the water draining away once the rain eases. */
  drainMinutes: z.number().positive(),
  /** Rain intensity the local drains carry away; only the excess ponds. */
  drainageMmPerMin: z.number().positive(),
  known: z.boolean(),
});
export const PARKING_PROFILES = ['park-and-ride', 'mall', 'office', 'residential'] as const;
const lotSchema = z.object({
  id,
  name,
  district: name,
  lon,
  lat,
  capacity: z.number().int().positive(),
  profile: z.enum(PARKING_PROFILES),
  /** Occupancy ratio at the top of the lot's daily curve. */
  peakLevel: z.number().min(0).max(1.1),
  known: z.boolean(),
});
const lineSchema = z.object({
  id,
  name,
  network: z.enum(UTILITY_NETWORKS),
  district: name,
  lon,
  lat,
  /** Base value of each metric the line's SCADA reports. */
  metrics: z.partialRecord(z.enum(UTILITY_METRICS), z.number()),
  /** Only on the line that leaks in the gas-leak scenario: its peak %LEL. */
  leakDesignPeakPct: z.number().min(0).max(100).optional(),
  known: z.boolean(),
});

const districtDataSchema = z
  .object({
    about: z.string(),
    districts: z.array(districtSchema).min(1),
    fireStations: z.array(stationSchema).min(1),
    waterloggingPoints: z.array(pointSchema).min(1),
    parkingLots: z.array(lotSchema).min(1),
    utilityLines: z.array(lineSchema).min(1),
  })
  .superRefine((d, ctx) => {
    const districts = new Set(d.districts.map((x) => x.name));
    const ids = new Set<string>();
    const check = (path: (string | number)[], entityId: string, district?: string) => {
      if (ids.has(entityId)) ctx.addIssue({ code: 'custom', path, message: `duplicate id ${entityId}` });
      ids.add(entityId);
      if (district !== undefined && !districts.has(district)) ctx.addIssue({ code: 'custom', path, message: `unknown district ${district}` });
    };
    d.fireStations.forEach((s, i) => check(['fireStations', i], s.id));
    d.waterloggingPoints.forEach((p, i) => check(['waterloggingPoints', i], p.id, p.district));
    d.parkingLots.forEach((l, i) => check(['parkingLots', i], l.id, l.district));
    d.utilityLines.forEach((l, i) => check(['utilityLines', i], l.id, l.district));
    if (d.utilityLines.filter((l) => l.leakDesignPeakPct !== undefined && l.network === 'gas').length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['utilityLines'], message: 'exactly one gas line must have leakDesignPeakPct' });
    }
  });

export type DistrictData = z.output<typeof districtDataSchema>;
export type District = DistrictData['districts'][number];
export type FireStation = DistrictData['fireStations'][number];
export type WaterloggingPoint = DistrictData['waterloggingPoints'][number];
export type ParkingLot = DistrictData['parkingLots'][number];
export type ParkingProfile = (typeof PARKING_PROFILES)[number];
export type UtilityLine = DistrictData['utilityLines'][number];

function load(): DistrictData {
  const parsed = districtDataSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`src/simulator/huitian-district.json is invalid: ${issues}`);
  }
  return parsed.data;
}

export const DISTRICT: DistrictData = load();

const EARTH_RADIUS_KM = 6371;

/** Great-circle distance (haversine), km. */
export function distanceKm(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(a));
}
