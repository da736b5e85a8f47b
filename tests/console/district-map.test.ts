/**
 * The console's district map: one schematic area per street of the reference data, each
 * holding its own centre and only places nearer to it than to any other centre.
 */
import { describe, expect, it } from 'vitest';
import { allPlaces, districtShapes, insideRing, type ReferenceData } from '../../console/src/district-map.js';
import reference from '../../src/simulator/huitian-district.json' with { type: 'json' };

const ref = reference as unknown as ReferenceData;
const k = Math.cos((40.08 * Math.PI) / 180);
const dist = (a: { lon: number; lat: number }, b: { lon: number; lat: number }) => Math.hypot((a.lon - b.lon) * k, a.lat - b.lat);

describe('district shapes', () => {
  const shapes = districtShapes(ref);

  it('has one closed polygon per street, named by it', () => {
    expect(shapes.features.map((f) => f.properties.name)).toEqual(ref.districts.map((d) => d.name));
    for (const f of shapes.features) {
      const ring = f.geometry.coordinates[0]!;
      expect(ring.length).toBeGreaterThanOrEqual(4);
      expect(ring[0]).toEqual(ring.at(-1));
    }
  });

  it('puts every street centre in its own area', () => {
    for (const [i, d] of ref.districts.entries()) {
      expect(insideRing(d.lon, d.lat, shapes.features[i]!.geometry.coordinates[0]!), d.name).toBe(true);
    }
  });

  it('puts every reference place in exactly one area: the one of the nearest centre', () => {
    for (const p of allPlaces(ref)) {
      const containing = shapes.features.filter((f) => insideRing(p.lon, p.lat, f.geometry.coordinates[0]!)).map((f) => f.properties.name);
      const nearest = [...ref.districts].sort((a, b) => dist(a, p) - dist(b, p))[0]!.name;
      expect([p.name, containing]).toEqual([p.name, [nearest]]);
    }
  });
});
