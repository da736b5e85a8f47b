/**
 * Builds the operations console into dist/console (or `outDir`): one bundled, minified
 * script (esbuild: the console's TypeScript, Apache ECharts and the district reference
 * data), its stylesheet and page. Nothing is fetched at run time from anywhere but the
 * service. Run by `npm ci` (prepare), `npm run build`, `npm start` and `npm run demo`.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const DEFAULT_CONSOLE_OUT = join(HERE, '..', 'dist', 'console');

export async function buildConsole(outDir: string = DEFAULT_CONSOLE_OUT): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(HERE, 'src', 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome109', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: false,
    legalComments: 'linked',
    charset: 'utf8',
    logLevel: 'warning',
  });
  copyFileSync(join(HERE, 'index.html'), join(outDir, 'index.html'));
  copyFileSync(join(HERE, 'style.css'), join(outDir, 'app.css'));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildConsole(process.argv[2] ?? DEFAULT_CONSOLE_OUT);
}
