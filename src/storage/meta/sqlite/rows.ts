import type { Digest } from '../../../core/digest.js';
import {
  DEFAULT_REPOSITORY_SETTINGS,
  type ManifestRecord, type Referrer, type Repository, type RepositorySettings, type UploadSession,
} from '../../../core/ports/meta-store.js';
import type { RepoKey } from '../../../core/repo-key.js';

/** The manifest columns every read selects. */
export interface ManifestRow {
  digest: string;
  media_type: string;
  size: number;
  body: Uint8Array;
  artifact_type: string | null;
  subject: string | null;
  annotations: string | null;
  pushed_at: number;
}

/** The repository columns every read selects. */
export interface RepositoryRow {
  name: string;
  created_at: number;
  account_id: string;
  settings: string;
}

export const REPOSITORY_COLUMNS = ['name', 'created_at', 'account_id', 'settings'] as const;

export interface UploadRow {
  id: string;
  size: number;
  started_at: number;
  updated_at: number;
}

/** A referrer from its row; optional fields are absent rather than `undefined`. */
export function toReferrer(row: Omit<ManifestRow, 'body' | 'subject' | 'pushed_at'>): Referrer {
  const r: Referrer = { mediaType: row.media_type, digest: row.digest as Digest, size: row.size };
  if (row.artifact_type !== null) r.artifactType = row.artifact_type;
  if (row.annotations !== null) r.annotations = parseAnnotations(row.annotations);
  return r;
}

/** A manifest record from its row; the body is copied out of the driver's buffer. */
export function toManifest(repository: RepoKey, row: ManifestRow): ManifestRecord {
  const m: ManifestRecord = {
    repository,
    digest: row.digest as Digest,
    mediaType: row.media_type,
    size: row.size,
    // A plain Uint8Array (not the driver's Buffer), so both stores return the same type.
    body: new Uint8Array(row.body),
    pushedAt: new Date(row.pushed_at),
  };
  if (row.artifact_type !== null) m.artifactType = row.artifact_type;
  if (row.subject !== null) m.subject = row.subject as Digest;
  if (row.annotations !== null) m.annotations = parseAnnotations(row.annotations);
  return m;
}

export function toUpload(repository: RepoKey, row: UploadRow): UploadSession {
  return {
    id: row.id,
    repository,
    size: row.size,
    startedAt: new Date(row.started_at),
    updatedAt: new Date(row.updated_at),
  };
}

function parseAnnotations(json: string): Record<string, string> {
  return JSON.parse(json) as Record<string, string>;
}

/** Serialises annotations; `null` when there are none to store. */
export function annotationsJson(annotations: Record<string, string> | undefined): string | null {
  return annotations === undefined ? null : JSON.stringify(annotations);
}

/** The body as a Buffer view for binding (no copy). */
export function bytesParam(body: Uint8Array): Buffer {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/**
 * A repository from its row. Settings stored before a field existed get that field's current
 * default; the result shares nothing with the defaults or with other results.
 */
export function toRepository(row: RepositoryRow): Repository {
  return {
    name: row.name,
    createdAt: new Date(row.created_at),
    accountId: row.account_id,
    settings: mergeSettings(DEFAULT_REPOSITORY_SETTINGS, JSON.parse(row.settings) as Partial<RepositorySettings>),
  };
}

/**
 * `patch` applied over `base` (a deep copy); keys of `patch` whose value is `undefined` are
 * ignored, so an absent request field never erases a setting.
 */
export function mergeSettings(base: RepositorySettings, patch: Partial<RepositorySettings> | undefined): RepositorySettings {
  const defined = Object.fromEntries(Object.entries(patch ?? {}).filter(([, v]) => v !== undefined));
  return structuredClone({ ...base, ...defined });
}
