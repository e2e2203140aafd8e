import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OsvRecord } from '../../core/ports/vuln-db.js';

/** Progress of reading: `done` of `total` units (entries of a zip, or files of a directory). */
export type ReadProgress = (done: number, total: number) => void;

/** A record too malformed to import; the import stops and keeps the old database. */
export class OsvFormatError extends Error {
  override readonly name = 'OsvFormatError';
}

function* records(json: unknown, where: string): Generator<OsvRecord> {
  const list = Array.isArray(json) ? json : [json];
  for (const r of list) {
    if (typeof r !== 'object' || r === null || typeof (r as { id?: unknown }).id !== 'string') {
      throw new OsvFormatError(`${where}: not an OSV record (an object with a string "id")`);
    }
    const affected = (r as { affected?: unknown }).affected;
    if (affected !== undefined && !Array.isArray(affected)) throw new OsvFormatError(`${where}: "affected" must be an array`);
    yield r as OsvRecord;
  }
}

function parse(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new OsvFormatError(`${where}: not valid JSON (${(err as Error).message})`);
  }
}

/**
 * Records of one osv.dev export (`all.zip`: one JSON file per record). fflate inflates every
 * entry in one synchronous pass (about 0.2 ms per entry here); yauzl's stream per entry cost over
 * a millisecond each, minutes for a 100 MB export of ~100k entries. The uncompressed JSON is held
 * in memory meanwhile (osv.dev's per-ecosystem exports are at most a few hundred MB); each entry
 * is released as soon as it is parsed.
 */
async function* readZip(path: string, progress?: ReadProgress): AsyncGenerator<OsvRecord> {
  let files: Record<string, Uint8Array>;
  // Loaded here: only an import reads zips, and fflate's module costs every server start ~7 ms.
  const { unzipSync } = await import('fflate');
  try {
    files = unzipSync(await readFile(path), { filter: (f) => f.name.endsWith('.json') });
  } catch (err) {
    throw new OsvFormatError(`${path}: not a readable zip archive (${(err as Error).message})`);
  }
  const names = Object.keys(files).sort();
  let done = 0;
  for (const name of names) {
    const text = Buffer.from(files[name]!).toString('utf8');
    delete files[name];
    yield* records(parse(text, `${path}: ${name}`), `${path}: ${name}`);
    if (++done % 1000 === 0) progress?.(done, names.length);
  }
  progress?.(names.length, names.length);
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...await listFiles(p));
    else if (e.name.endsWith('.json') || e.name.endsWith('.zip')) out.push(p);
  }
  return out.sort();
}

/**
 * OSV records from `path`: an osv.dev `all.zip` export, a JSON file (one record or an array), or
 * a directory holding any of those (searched recursively). Throws `OsvFormatError` naming the
 * file (and zip entry) of the first malformed record.
 */
export async function* readOsv(path: string, progress?: ReadProgress): AsyncGenerator<OsvRecord> {
  const st = await stat(path);
  const files = st.isDirectory() ? await listFiles(path) : [path];
  let done = 0;
  for (const file of files) {
    if (file.endsWith('.zip')) yield* readZip(file, files.length === 1 ? progress : undefined);
    else yield* records(parse(await readFile(file, 'utf8'), file), file);
    done++;
    if (files.length > 1) progress?.(done, files.length);
  }
}
