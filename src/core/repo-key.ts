/**
 * A repository's identity. Each account is its own registry (as on ECR), so a repository is named
 * by (account, name), never by its name alone. The key is a branded string `<account>/<name>`:
 * the account id is always 12 digits, so the split is unambiguous, and the key works as a map or
 * cache key as it is. The brand makes TypeScript refuse a bare name wherever a key is expected.
 * Show {@link repoName} to people, never the key.
 */
declare const REPO_KEY: unique symbol;
export type RepoKey = string & { readonly [REPO_KEY]: true };

const ACCOUNT_RE = /^\d{12}$/;

/** The key of repository `name` in account `accountId` (a 12-digit registry id). */
export function repoKey(accountId: string, name: string): RepoKey {
  if (!ACCOUNT_RE.test(accountId)) throw new Error(`not an account id: ${accountId.slice(0, 40)}`);
  return `${accountId}/${name}` as RepoKey;
}

/** The owning account of a key. */
export function repoAccount(key: RepoKey): string {
  return key.slice(0, 12);
}

/** The repository name (as users and clients see it) of a key. */
export function repoName(key: RepoKey): string {
  return key.slice(13);
}

/** Parses a stored key back (for data read from outside the type system); `undefined` if malformed. */
export function parseRepoKey(text: string): RepoKey | undefined {
  return text.length > 13 && text[12] === '/' && ACCOUNT_RE.test(text.slice(0, 12)) ? (text as RepoKey) : undefined;
}
