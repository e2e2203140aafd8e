// `npm run docs`: rewrites the generated reference pages (see scripts/docs.ts).
import { writeFileSync } from 'node:fs';
import { apiCoverageDoc, configurationDoc } from './docs.js';

const root = new URL('..', import.meta.url).pathname;
writeFileSync(`${root}docs/configuration.md`, configurationDoc());
writeFileSync(`${root}docs/api-coverage.md`, apiCoverageDoc());
console.log('wrote docs/configuration.md and docs/api-coverage.md');
