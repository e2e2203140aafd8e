import type { AwsOperations } from '../aws/context.js';
import { aliasOperations } from './aliases.js';
import type { KmsDeps } from './common.js';
import { cryptoOperations } from './crypto.js';
import { keyOperations } from './keys.js';

export type { KmsDeps } from './common.js';

/** Every KMS (`TrentService`) operation berth implements; the rest of the model answers "not implemented yet". */
export function kmsOperations(deps: KmsDeps): AwsOperations {
  return { ...keyOperations(deps), ...aliasOperations(deps), ...cryptoOperations(deps) };
}
