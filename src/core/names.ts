import { fail } from './errors.js';

/**
 * Repository names follow the OCI distribution grammar
 * `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`
 * and ECR's length limits (2–256).
 */
const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export const NAME_MIN = 2;
export const NAME_MAX = 256;

export function validateRepositoryName(name: string): string {
  if (name.length < NAME_MIN || name.length > NAME_MAX || !NAME_RE.test(name)) {
    throw fail('InvalidName', `invalid repository name: must match the OCI name grammar and be ${NAME_MIN}-${NAME_MAX} characters`, {
      name: name.slice(0, 300),
    });
  }
  return name;
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

export function validateTag(tag: string): string {
  if (!isValidTag(tag)) {
    throw fail('InvalidTag', 'invalid tag: must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}', { tag: tag.slice(0, 200) });
  }
  return tag;
}
