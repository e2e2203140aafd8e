// Turns per-round measurements into the final table: median per server, berth/distribution
// ratio, the target and whether it was met.
import type { ServerKind } from './config.js';
import type { Measurement, Metric, Scenario } from './scenarios/types.js';

export type Results = Map<string, Map<ServerKind, Measurement[]>>;

export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function fmt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return 'n/a';
  if (Math.abs(n) >= 100 || Number.isInteger(n)) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

function values(results: Results, scenario: string, server: ServerKind, metric: string): number[] {
  const rounds = results.get(scenario)?.get(server) ?? [];
  return rounds.map((m) => m.values[metric]).filter((v): v is number => v !== undefined);
}

function target(m: Metric): string {
  if (m.targetRatio === undefined) return m.targetText ?? (m.higherIsBetter ? 'higher is better' : 'lower is better');
  return m.higherIsBetter ? `berth ≥ ${m.targetRatio}×` : `berth ≤ 1/${m.targetRatio}×`;
}

function verdict(m: Metric, ratio: number | undefined): string {
  if (m.targetRatio === undefined || ratio === undefined) return '';
  const ok = m.higherIsBetter ? ratio >= m.targetRatio : ratio <= 1 / m.targetRatio;
  return ok ? 'met' : 'MISSED';
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  const [head, ...body] = rows;
  return [line(head ?? []), sep, ...body.map(line)].join('\n');
}

export function render(scenarios: readonly Scenario[], results: Results, servers: readonly ServerKind[]): string {
  const rows: string[][] = [['metric', 'unit', 'berth', 'distribution', 'berth/dist', 'target', 'verdict']];
  const spread: string[] = [];
  const notes = new Set<string>();
  for (const s of scenarios) {
    for (const rounds of results.get(s.id)?.values() ?? []) for (const r of rounds) for (const n of r.notes ?? []) notes.add(n);
    for (const m of s.metrics) {
      const b = median(values(results, s.id, 'berth', m.id));
      const d = median(values(results, s.id, 'distribution', m.id));
      const ratio = b !== undefined && d !== undefined && d !== 0 ? b / d : undefined;
      rows.push([m.label, m.unit, fmt(b), fmt(d), ratio === undefined ? 'n/a' : `${ratio.toFixed(2)}×`, target(m), verdict(m, ratio)]);
      for (const server of servers) {
        const xs = values(results, s.id, server, m.id);
        if (xs.length > 1) spread.push(`  ${m.label} [${server}]: ${xs.map(fmt).join(', ')} ${m.unit}`);
      }
    }
  }
  const out = [table(rows)];
  if (spread.length > 0) out.push('', 'per-round values (median reported):', ...spread);
  if (notes.size > 0) out.push('', 'notes:', ...[...notes].map((n) => `  ${n}`));
  return out.join('\n');
}
