// Paginators say, per operation, which input member carries the continuation token, which output member
// returns it, which input member caps the page and which output member holds the items. Handlers use them to
// stay consistent with what `aws ecr … --max-items` and SDK paginators will send back.
import { loadPaginators, loadWaiters } from './load.js';
import type { Paginator, Waiter } from './types.js';

export type { Paginator, Waiter } from './types.js';

/** The botocore paginators of ECR, keyed by operation name (e.g. `DescribeImages`). Parsed once, shared. */
export function paginatorsFor(service: 'ecr'): Readonly<Record<string, Paginator>> {
  return loadPaginators(service);
}

/** The paginator of one operation, or undefined if it isn't paginated. */
export function paginatorFor(service: 'ecr', operationName: string): Paginator | undefined {
  const all = paginatorsFor(service);
  return Object.hasOwn(all, operationName) ? all[operationName] : undefined;
}

/** The botocore waiters of ECR (`ImageScanComplete`, `LifecyclePolicyPreviewComplete`). Parsed once, shared. */
export function waitersFor(service: 'ecr'): Readonly<Record<string, Waiter>> {
  return loadWaiters(service);
}
