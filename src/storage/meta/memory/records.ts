import type {
  ManifestRecord, PutManifestInput, Repository, UploadSession,
} from '../../../core/ports/meta-store.js';
import { repoName, type RepoKey } from '../../../core/repo-key.js';
import type { RepoState } from './state.js';

/** Conversions between the stored state and the values handed out; every value out is a copy. */

export interface StoredUpload {
  repository: RepoKey;
  size: number;
  startedAt: number;
  updatedAt: number;
}

export function toRecord(input: PutManifestInput): ManifestRecord {
  const m: ManifestRecord = {
    repository: input.repository,
    digest: input.digest,
    mediaType: input.mediaType,
    size: input.body.byteLength,
    body: input.body,
    pushedAt: new Date(),
  };
  if (input.artifactType !== undefined) m.artifactType = input.artifactType;
  if (input.subject !== undefined) m.subject = input.subject;
  if (input.annotations !== undefined) m.annotations = input.annotations;
  return m;
}

export function copyManifest(m: ManifestRecord): ManifestRecord {
  const copy: ManifestRecord = { ...m, body: m.body.slice(), pushedAt: new Date(m.pushedAt.getTime()) };
  if (m.annotations !== undefined) copy.annotations = { ...m.annotations };
  return copy;
}

export function toRepository(key: RepoKey, repo: RepoState): Repository {
  return { name: repoName(key), createdAt: new Date(repo.createdAt), accountId: repo.accountId, settings: structuredClone(repo.settings) };
}

export function toUpload(id: string, u: StoredUpload): UploadSession {
  return { id, repository: u.repository, size: u.size, startedAt: new Date(u.startedAt), updatedAt: new Date(u.updatedAt) };
}
