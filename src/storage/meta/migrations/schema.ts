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
  registry_policies: RegistryPoliciesTable;
  account_settings: AccountSettingsTable;
  /** Migration 0007-lifecycle: blobs garbage collection is deleting (linkBlob refuses them). */
  gc_blob_fence: GcBlobFenceTable;
}

export interface RepositoriesTable {
  id: Generated<number>;
  name: string;
  created_at: number;
  account_id: string;
  /** JSON of the repository's settings (ECR `RepositorySettings`). */
  settings: string;
  /** Repository policy text, or null when it has none. */
  policy: string | null;
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
  /** Sum of referenced descriptor sizes (0 for manifests pushed before it was recorded). */
  image_size: number;
  last_pulled_at: number | null;
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

export interface RegistryPoliciesTable {
  account_id: string;
  policy: string;
}

export interface AccountSettingsTable {
  account_id: string;
  name: string;
  value: string;
}

/** The kysely database type of the identity tables (migration 0003-identity), on the same database. */
export interface IdentitySchema {
  accounts: AccountsTable;
  iam_users: IamUsersTable;
  iam_groups: IamGroupsTable;
  group_members: GroupMembersTable;
  access_keys: AccessKeysTable;
  inline_policies: InlinePoliciesTable;
  managed_policies: ManagedPoliciesTable;
  policy_versions: PolicyVersionsTable;
  policy_attachments: PolicyAttachmentsTable;
}

export interface AccountsTable {
  id: string;
  created_at: number;
}

export interface IamUsersTable {
  account_id: string;
  user_name: string;
  user_name_lower: string;
  user_id: string;
  path: string;
  created_at: number;
  /** JSON array of `{Key, Value}`. */
  tags: string;
}

export interface IamGroupsTable {
  account_id: string;
  group_name: string;
  group_name_lower: string;
  group_id: string;
  path: string;
  created_at: number;
}

export interface GroupMembersTable {
  account_id: string;
  group_name_lower: string;
  user_name_lower: string;
}

export interface AccessKeysTable {
  access_key_id: string;
  account_id: string;
  /** The user's name as created; null for the account root's key. */
  user_name: string | null;
  status: string;
  secret_ciphertext: Uint8Array;
  created_at: number;
  last_used_at: number | null;
}

export interface InlinePoliciesTable {
  account_id: string;
  /** 'user' | 'group'. */
  owner_kind: string;
  owner_name_lower: string;
  policy_name: string;
  document: string;
}

export interface ManagedPoliciesTable {
  account_id: string;
  arn: string;
  policy_name: string;
  policy_name_lower: string;
  policy_id: string;
  path: string;
  description: string | null;
  default_version_id: string;
  attachment_count: number;
  /** Highest version number ever issued (`v<n>`), so numbers are never reused. */
  version_counter: number;
  created_at: number;
  updated_at: number;
}

export interface PolicyVersionsTable {
  arn: string;
  version_id: string;
  document: string;
  created_at: number;
}

export interface PolicyAttachmentsTable {
  account_id: string;
  owner_kind: string;
  owner_name_lower: string;
  policy_arn: string;
}

/** The kysely database type of the lifecycle and GC tables (migration 0007-lifecycle), with what they join. */
export interface LifecycleSchema {
  repositories: RepositoriesTable;
  manifests: ManifestsTable;
  tags: TagsTable;
  repository_blobs: RepositoryBlobsTable;
  manifest_blobs: ManifestBlobsTable;
  uploads: UploadsTable;
  lifecycle_policies: LifecyclePoliciesTable;
  lifecycle_previews: LifecyclePreviewsTable;
  image_archive: ImageArchiveTable;
  pull_time_exclusions: PullTimeExclusionsTable;
  gc_blob_fence: GcBlobFenceTable;
}

export interface LifecyclePoliciesTable {
  repository_id: number;
  text: string;
  updated_at: number;
  last_evaluated_at: number | null;
  last_expired: number | null;
  last_transitioned: number | null;
}

export interface LifecyclePreviewsTable {
  repository_id: number;
  /** IN_PROGRESS | COMPLETE | EXPIRED | FAILED. */
  status: string;
  text: string;
  started_at: number;
  /** JSON array of the evaluator's actions. */
  results: string;
}

export interface ImageArchiveTable {
  repository_id: number;
  digest: string;
  /** ACTIVE | ARCHIVED | ACTIVATING. */
  status: string;
  last_archived_at: number | null;
  last_activated_at: number | null;
}

export interface PullTimeExclusionsTable {
  account_id: string;
  principal_arn: string;
  created_at: number;
}

export interface GcBlobFenceTable {
  digest: string;
  fenced_at: number;
}
