import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import yauzl from 'yauzl';
import type { OsvRecord } from '../../core/ports/vuln-db.js';

/** Progress of reading: `done` of `total` units (zip entries or files). */
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

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.open(path, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => (err ? reject(new OsvFormatError(`${path}: not a zip archive (${err.message})`)) : resolve(zip))));
}

function entryText(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<string> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, s) => {
    if (err) return reject(err);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  }));
}

/** Records of one osv.dev export (`all.zip`: one JSON file per record), streamed entry by entry. */
async function* readZip(path: string, progress?: ReadProgress): AsyncGenerator<OsvRecord> {
  const zip = await openZip(path);
  const total = zip.entryCount;
  let done = 0;
  try {
    const next = (): Promise<yauzl.Entry | undefined> => new Promise((resolve, reject) => {
      const onEntry = (e: yauzl.Entry): void => { cleanup(); resolve(e); };
      const onEnd = (): void => { cleanup(); resolve(undefined); };
      const onError = (e: Error): void => { cleanup(); reject(e); };
      const cleanup = (): void => {
        zip.off('entry', onEntry);
        zip.off('end', onEnd);
        zip.off('error', onError);
      };
      zip.on('entry', onEntry);
      zip.on('end', onEnd);
      zip.on('error', onError);
      zip.readEntry();
    });
    for (let e = await next(); e; e = await next()) {
      done++;
      if (!e.fileName.endsWith('.json')) continue;
      yield* records(parse(await entryText(zip, e), `${path}: ${e.fileName}`), `${path}: ${e.fileName}`);
      if (done % 500 === 0) progress?.(done, total);
    }
    progress?.(total, total);
  } finally {
    zip.close();
  }
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
