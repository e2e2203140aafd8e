/**
 * The lifecycle feature: ECR lifecycle policies (validation, preview, scheduled execution) and the
 * archive storage class. `register` builds it from core ports; app.ts hands `api` to the ECR
 * surface and stops it on shutdown.
 */
import type { EventBus } from '../core/events.js';
import { periodic } from '../core/periodic.js';
import type { LifecycleStore } from '../core/ports/lifecycle-store.js';
import type { MetaStore } from '../core/ports/meta-store.js';
import type { EcrImageService } from '../core/services/ecr/images.js';
import { LifecycleExecutor } from './executor.js';
import { LifecycleService } from './service.js';

export { LifecycleExecutor, type RepositoryRun } from './executor.js';
export { LifecycleService } from './service.js';

export interface LifecycleDeps {
  meta: MetaStore;
  store: LifecycleStore;
  images: EcrImageService;
  events: EventBus;
  /** Minutes between scheduled runs; 0 turns the schedule off. */
  intervalMinutes: number;
  log: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
  clock?: () => Date;
}

export interface LifecycleFeature {
  api: LifecycleService;
  executor: LifecycleExecutor;
  /** Stops the schedule and waits for a run or preview in progress. */
  stop(): Promise<void>;
}

export function register(deps: LifecycleDeps): LifecycleFeature {
  const onError = (err: unknown) => deps.log.error({ err }, 'lifecycle work failed');
  const api = new LifecycleService(deps.meta, deps.store, deps.clock, onError, deps.events);
  const executor = new LifecycleExecutor(deps.meta, deps.store, deps.images, deps.events, deps.clock);
  const schedule = periodic(deps.intervalMinutes * 60_000, async (signal) => {
    const runs = await executor.run({}, signal);
    const expired = runs.reduce((n, r) => n + r.expired, 0);
    const transitioned = runs.reduce((n, r) => n + r.transitioned, 0);
    deps.log.info({ repositories: runs.length, expired, transitioned }, 'lifecycle policies applied');
  }, onError);
  return {
    api, executor,
    async stop() {
      await schedule.stop();
      await api.idle();
    },
  };
}
