import { runLifecycle } from '../app.js';
import { type CommonFlags, configFromFlags } from './flags.js';

/** `berth lifecycle run [--repository R] [--dry-run]`: applies lifecycle policies now. */
export async function lifecycleRunCommand(flags: CommonFlags & { repository?: string; registryId?: string; dryRun?: boolean; json?: boolean }): Promise<void> {
  const config = await configFromFlags(flags);
  const runs = await runLifecycle(config, { ...(flags.repository ? { repository: flags.repository } : {}), ...(flags.registryId ? { accountId: flags.registryId } : {}), dryRun: flags.dryRun ?? false }, new AbortController().signal);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
    return;
  }
  if (flags.repository && runs.length === 0) process.stdout.write(`no lifecycle policy on repository ${flags.repository}\n`);
  const lines: string[] = [];
  for (const r of runs) {
    const verb = flags.dryRun ? 'would' : 'did';
    lines.push(`${r.repository.accountId}/${r.repository.name}: ${r.error ? `error: ${r.error}` : `${verb} expire ${flags.dryRun ? r.actions.filter((a) => a.type === 'EXPIRE').length : r.expired}, ${verb} archive ${flags.dryRun ? r.actions.filter((a) => a.type === 'TRANSITION').length : r.transitioned}`}`);
    for (const a of r.actions) lines.push(`  ${a.type === 'EXPIRE' ? 'expire ' : 'archive'} ${a.digest} [${a.tags.join(', ')}] rule ${a.rulePriority}`);
    for (const s of r.skipped) lines.push(`  skipped ${s.digest}: ${s.reason}`);
  }
  if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
  if (runs.some((r) => r.error)) process.exitCode = 1;
}
