import type { Digest } from '../digest.js';
import { scopeName, scopeOf, type EncryptionScope } from '../ports/blob-encryption.js';
import type { MetaStore, Repository } from '../ports/meta-store.js';

/**
 * The KMS scopes (`KMS`, `KMS_DSSE`) of the repositories whose images reference each of `digests`
 * (through their manifests), for `berth fsck` and `berth encrypt-existing` with `storage.redirect`,
 * where plain objects are expected for `AES256` repositories but never for KMS ones. Digests only
 * AES256 repositories reference are absent from the result. A blob linked by a repository but
 * referenced by none of its manifests (an upload never followed by a manifest) is not seen.
 */
export async function kmsScopesReferencing(meta: MetaStore, digests: ReadonlySet<Digest>, signal: AbortSignal): Promise<Map<Digest, EncryptionScope[]>> {
  const out = new Map<Digest, EncryptionScope[]>();
  if (digests.size === 0) return out;
  const repos = new Map<string, Repository | undefined>();
  for await (const ref of meta.listBlobReferences(signal)) {
    if (!digests.has(ref.blob)) continue;
    if (!repos.has(ref.repository)) repos.set(ref.repository, await meta.getRepository(ref.repository, signal));
    const repo = repos.get(ref.repository);
    if (!repo) continue;
    const scope = scopeOf(repo);
    if (scope.type === 'AES256') continue;
    const list = out.get(ref.blob) ?? [];
    if (!list.some((s) => scopeName(s) === scopeName(scope))) list.push(scope);
    out.set(ref.blob, list);
  }
  return out;
}
