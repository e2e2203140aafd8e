/**
 * Row types of the metadata schema as the migrations create it, shared by every SQL backend.
 * Times are epoch milliseconds; sizes are bytes. Both fit a 64-bit integer column.
 */
import type { Generated } from 'kysely';

/** The kysely database type of the metadata store. */
export interface MetaSchema {
  repositories: RepositoriesTable;
  repository_blobs: RepositoryBlobsTable;
  uploads: UploadsTable;
  manifests: ManifestsTable;
  manifest_blobs: ManifestBlobsTable;
  manifest_children: ManifestChildrenTable;
  tags: TagsTable;
}

export interface RepositoriesTable {
  id: Generated<number>;
  name: string;
  created_at: number;
}

export interface RepositoryBlobsTable {
  repository_id: number;
  digest: string;
  size: number;
  created_at: number;
}

export interface UploadsTable {
  id: string;
  repository_id: number;
  size: number;
  started_at: number;
  updated_at: number;
}

export interface ManifestsTable {
  repository_id: number;
  digest: string;
  media_type: string;
  size: number;
  body: Uint8Array;
  artifact_type: string | null;
  subject: string | null;
  /** JSON object of string → string, or null when the manifest has none. */
  annotations: string | null;
  pushed_at: number;
}

export interface ManifestBlobsTable {
  repository_id: number;
  manifest_digest: string;
  blob_digest: string;
}

export interface ManifestChildrenTable {
  repository_id: number;
  parent_digest: string;
  child_digest: string;
}

export interface TagsTable {
  repository_id: number;
  name: string;
  digest: string;
  updated_at: number;
}
