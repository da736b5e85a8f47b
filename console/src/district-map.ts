/**
 * The district's streets as map shapes, from the repository's reference data
 * (src/simulator/huitian-district.json), which holds each street's (街道/镇) centre, not
 * its boundary. Each street gets the area nearer its centre than any other (a Voronoi
 * cell), clipped to the convex hull of every reference place widened by a margin: a
 * schematic map, labelled as such, drawn with no online tiles. Pure, so it is tested in
 * Node and runs in the browser.
 */

export interface Place {
  name: string;
  lon: number;
  lat: number;
}

export interface ReferenceData {
  districts: Place[];
  fireStations: Array<Place & { id: string }>;
  waterloggingPoints: Array<Place & { id: string; district: string }>;
  parkingLots: Array<Place & { id: string; district: string; capacity: number }>;
  utilityLines: Array<Place & { id: string; district: string; network: string }>;
}

export interface GeoFeature {
  type: 'Feature';
  properties: { name: string };
  geometry: { type: 'Polygon'; coordinates: Array<Array<[number, number]>> };
}

export interface GeoCollection {
  type: 'FeatureCollection';
  features: GeoFeature[];
}

type Point = [x: number, y: number];

/** Local plane: x = lon scaled by cos(latitude), so distances are comparable in both axes. */
function projector(lat0: number): { to: (p: Place) => Point; from: (p: Point) => [number, number] } {
  const k = Math.cos((lat0 * Math.PI) / 180);
  return { to: (p) => [p.lon * k, p.lat], from: ([x, y]) => [round(x / k), round(y)] };
}

const round = (v: number) => Math.round(v * 1e5) / 1e5;

function cross(o: Point, a: Point, b: Point): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** Convex hull (Andrew's monotone chain), counter-clockwise. */
export function convexHull(points: readonly Point[]): Point[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const lower: Point[] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: Point[] = [];
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, q) <= 0) upper.pop();
    upper.push(q);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/** Keeps the part of a convex polygon where `side(p) ≤ 0` (one Sutherland–Hodgman pass). */
function clip(polygon: readonly Point[], side: (p: Point) => number): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < polygon.length; i++) {
    const a = polygon[i]!;
    const b = polygon[(i + 1) % polygon.length]!;
    const sa = side(a);
    const sb = side(b);
    if (sa <= 0) out.push(a);
    if ((sa < 0 && sb > 0) || (sa > 0 && sb < 0)) {
      const t = sa / (sa - sb);
      out.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
    }
  }
  return out;
}

/** Widens a convex polygon: every vertex moves `margin` away from the centroid. */
function widen(polygon: readonly Point[], margin: number): Point[] {
  const cx = polygon.reduce((s, p) => s + p[0], 0) / polygon.length;
  const cy = polygon.reduce((s, p) => s + p[1], 0) / polygon.length;
  return polygon.map(([x, y]) => {
    const d = Math.hypot(x - cx, y - cy) || 1;
    return [x + ((x - cx) / d) * margin, y + ((y - cy) / d) * margin];
  });
}

/** Every place of the reference data, for the outline. */
export function allPlaces(ref: ReferenceData): Place[] {
  return [...ref.districts, ...ref.fireStations, ...ref.waterloggingPoints, ...ref.parkingLots, ...ref.utilityLines];
}

/** The streets as GeoJSON polygons (lon/lat), one feature per reference district, named by it. */
export function districtShapes(ref: ReferenceData, marginDeg = 0.012): GeoCollection {
  const lat0 = ref.districts.reduce((s, d) => s + d.lat, 0) / ref.districts.length;
  const proj = projector(lat0);
  const outline = widen(convexHull(allPlaces(ref).map(proj.to)), marginDeg);
  const centres = ref.districts.map(proj.to);
  const features = ref.districts.map((d, i): GeoFeature => {
    const c = centres[i]!;
    let cell = outline;
    for (let j = 0; j < centres.length; j++) {
      if (j === i) continue;
      const o = centres[j]!;
      // Nearer to o than to c: (p − m)·(o − c) > 0, with m the midpoint.
      const mx = (c[0] + o[0]) / 2;
      const my = (c[1] + o[1]) / 2;
      cell = clip(cell, (p) => (p[0] - mx) * (o[0] - c[0]) + (p[1] - my) * (o[1] - c[1]));
    }
    const ring = cell.map(proj.from);
    if (ring.length > 0) ring.push(ring[0]!);
    return { type: 'Feature', properties: { name: d.name }, geometry: { type: 'Polygon', coordinates: [ring] } };
  });
  return { type: 'FeatureCollection', features };
}

/** Whether a lon/lat lies inside a polygon ring (ray casting); for tests and hit checks. */
export function insideRing(lon: number, lat: number, ring: ReadonlyArray<readonly [number, number]>): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
