/**
 * `huitian` run from the TypeScript sources (`node --import tsx` this file), for tests
 * that need a real process without building dist/ (tests/cli/cli.test.ts tests the build).
 */
import { main } from '../../src/cli/main.js';

await main(process.argv.slice(2));
