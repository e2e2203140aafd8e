/**
 * Runs `task` every `intervalMs` in this process (the first run after one interval, plus up to 10 %
 * jitter so several nodes started together do not run in step). A run never overlaps the previous
 * one; errors go to `onError`. Timers are unref'd, so they never keep a process alive. Resolves
 * `stop()` once a run in progress has finished.
 */
export function periodic(intervalMs: number, task: (signal: AbortSignal) => Promise<unknown>, onError: (err: unknown) => void): { stop(): Promise<void> } {
  if (!(intervalMs > 0)) return { stop: async () => {} };
  const abort = new AbortController();
  let current: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    timer = setTimeout(() => {
      current = task(abort.signal).catch(onError).finally(() => {
        current = undefined;
        if (!abort.signal.aborted) schedule();
      });
    }, intervalMs * (1 + Math.random() * 0.1));
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      abort.abort();
      clearTimeout(timer);
      await current;
    },
  };
}
