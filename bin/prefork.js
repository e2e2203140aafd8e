// `berth serve` with several workers (the default: one per CPU) is a supervisor whose workers each
// load the server. Forking the first worker here, before this process loads the bundle and
// validates its configuration (~0.25 s), lets the two start side by side instead of one after the
// other. Only when the command line and environment leave no doubt that the supervisor will want
// workers (a --config file could say `workers: 1`, so it is not pre-forked): anything else takes the
// ordinary path, where src/cli/serve.ts forks. serve.ts adopts the worker (see takePreforkedWorker);
// a configuration error stops both, as it would have stopped either.
'use strict';

const KEY = Symbol.for('berth.preforkedWorker');
/** `serve` flags that take a value and cannot change the worker count. */
const NEUTRAL = new Set(['-d', '--data-dir', '-l', '--listen', '--tls-cert', '--tls-key', '--public-url', '--log-format']);
const WORKERS = new Set(['-w', '--workers']);

/** True for `auto` or a whole number of at least 2 (what makes `serve` a supervisor). */
const several = (v) => v === 'auto' || (/^\d+$/.test(v) && Number(v) >= 2);

/** Whether `serve`'s arguments certainly ask for a supervisor with the default or a given count. */
function wantsWorkers(args, env) {
  let workers = env.BERTH_WORKERS || 'auto';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = name === arg ? args[++i] : arg.slice(eq + 1);
    if (value === undefined) return false;
    if (WORKERS.has(name)) workers = value;
    else if (!NEUTRAL.has(name)) return false;
  }
  return several(workers);
}

function preforkServeWorker(argv, env) {
  if (argv[0] !== 'serve' || !wantsWorkers(argv.slice(1), env)) return;
  const cluster = require('node:cluster');
  if (!cluster.isPrimary || require('node:os').availableParallelism() < 2) return;
  const worker = cluster.fork();
  const early = { worker, messages: [], exit: undefined };
  const onMessage = (message) => early.messages.push(message);
  const onExit = (code, signal) => { early.exit = { code, signal }; };
  worker.on('message', onMessage);
  worker.once('exit', onExit);
  early.release = () => {
    worker.off('message', onMessage);
    worker.off('exit', onExit);
  };
  globalThis[KEY] = early;
}

module.exports = { wantsWorkers, preforkServeWorker };
