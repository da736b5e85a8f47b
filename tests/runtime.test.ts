/**
 * The Node.js lines the project says it runs on are the ones it is tested on (issue 9):
 * `engines` names Node 20 (the machine's toolchain, `npm test`) and Node 24 (the current
 * LTS line: scripts/ci/node24.sh runs the unit tests on it in CI), and the Docker image
 * runs 24. The image's data directory is writable by the user the service runs as (issue
 * 13): a compose volume mounted on /data starts as a copy of it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
const node24Script = readFileSync('scripts/ci/node24.sh', 'utf8');
const ciRun = readFileSync('.ci/run', 'utf8');
const dockerfile = readFileSync('Dockerfile', 'utf8');

/** The instructions of the Dockerfile's last stage, comments and continuations folded. */
function finalStage(text: string): string[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const from = lines.map((l, i) => (/^FROM /i.test(l) ? i : -1)).filter((i) => i >= 0).at(-1)!;
  return lines.slice(from);
}

function majorsOf(range: string): number[] {
  return [...range.matchAll(/\^(\d+)\.\d+\.\d+/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
}

describe('runtime', () => {
  it('engines names exactly the Node.js lines CI tests: 20 (npm test) and 24 (scripts/ci/node24.sh, run by .ci/run)', () => {
    expect(pkg.engines.node).toBe('^20.11.0 || ^24.0.0');
    expect(majorsOf(pkg.engines.node)).toEqual([20, 24]);
    const pinned = /^NODE24_VERSION=(\d+)\.(\d+)\.(\d+)$/m.exec(node24Script);
    expect(pinned?.[1]).toBe('24');
    expect(ciRun).toMatch(/^bash scripts\/ci\/node24\.sh$/m);
    // Whichever of the two runs this test, it is a version engines admits.
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    expect(major === 24 || (major === 20 && minor >= 11)).toBe(true);
  });

  it('the Docker image runs Node 24, a line engines names', () => {
    const froms = dockerfile.split('\n').filter((l) => /^FROM /i.test(l));
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) expect(from).toMatch(/^FROM node:24-bookworm-slim\b/);
  });

  it('the image creates /data owned by `node`, the user it runs as, before declaring the volume', () => {
    const stage = finalStage(dockerfile);
    const mkdir = stage.findIndex((l) => /^RUN .*mkdir -p \/data\b.*&& chown (-R )?node:node \/data\b/.test(l));
    const volume = stage.findIndex((l) => /^VOLUME \/data$/.test(l));
    const user = stage.findIndex((l) => /^USER node$/.test(l));
    expect(mkdir).toBeGreaterThanOrEqual(0);
    expect(volume).toBeGreaterThan(mkdir);
    expect(user).toBeGreaterThan(mkdir);
    expect(stage.some((l) => /^ENV .*HUITIAN_DATA_DIR=\/data\b/.test(l))).toBe(true);
  });
});
