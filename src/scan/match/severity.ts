import cvssLib from 'ae-cvss-calculator';
import type { CvssRating, Severity } from '../../core/scanning.js';
import type { OsvRecord, OsvSeverity } from '../../core/ports/vuln-db.js';

// The package is CommonJS; its named exports are reached through the default import under ESM.
const { Cvss2, Cvss3P0, Cvss3P1, Cvss4P0 } = cvssLib;

/** CVSS qualitative rating scale (v3.x and v4.0 share it). */
export function severityOfScore(score: number): Severity {
  if (score >= 9) return 'CRITICAL';
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  if (score > 0) return 'LOW';
  return 'INFORMATIONAL';
}

/** CVSS v2's rating scale (NVD): no CRITICAL, and LOW down to 0. */
export function severityOfV2Score(score: number): Severity {
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  return 'LOW';
}

/** Scores one OSV severity entry with the CVSS library; `undefined` for other types or bad vectors. */
export function scoreCvss(s: OsvSeverity, source: string): CvssRating | undefined {
  try {
    if (s.type === 'CVSS_V4' || s.score.startsWith('CVSS:4.0/')) {
      return { version: '4.0', vector: s.score, score: new Cvss4P0(s.score).calculateScores().overall, source };
    }
    if (s.type === 'CVSS_V3' || s.score.startsWith('CVSS:3.')) {
      const v = s.score.startsWith('CVSS:3.0/') ? new Cvss3P0(s.score) : new Cvss3P1(s.score);
      return { version: s.score.startsWith('CVSS:3.0/') ? '3.0' : '3.1', vector: s.score, score: v.calculateScores().base ?? 0, source };
    }
    if (s.type === 'CVSS_V2') {
      // A vector missing a base metric scores `undefined` in the library: not a rating.
      const base = new Cvss2(s.score).calculateScores().base;
      return base === undefined ? undefined : { version: '2.0', vector: s.score, score: base, source };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** A source's own word for severity (GHSA `MODERATE`, Ubuntu `medium`, Debian `unimportant`…). */
export function severityOfWord(word: unknown): Severity | undefined {
  if (typeof word !== 'string') return undefined;
  switch (word.trim().toUpperCase()) {
    case 'CRITICAL': return 'CRITICAL';
    case 'HIGH': case 'IMPORTANT': return 'HIGH';
    case 'MEDIUM': case 'MODERATE': return 'MEDIUM';
    case 'LOW': case 'NEGLIGIBLE': case 'UNIMPORTANT': return 'LOW';
    case 'NONE': case 'INFORMATIONAL': return 'INFORMATIONAL';
    default: return undefined;
  }
}

/**
 * The severity of a finding: the highest-version CVSS vector of the affected entry or the record
 * (v4 over v3 over v2, each on its own scale), else the source's own rating, else UNDEFINED.
 */
export function rateRecord(record: OsvRecord, affectedSeverity: OsvSeverity[] | undefined, affectedSpecific: Record<string, unknown> | undefined): { severity: Severity; cvss?: CvssRating } {
  const source = record.id.split('-')[0] ?? 'OSV';
  const ratings = [...(affectedSeverity ?? []), ...(record.severity ?? [])]
    .map((s) => scoreCvss(s, source)).filter((r): r is CvssRating => r !== undefined)
    .sort((a, b) => Number(b.version) - Number(a.version));
  const best = ratings[0];
  if (best) return { severity: best.version === '2.0' ? severityOfV2Score(best.score) : severityOfScore(best.score), cvss: best };
  const word = severityOfWord(affectedSpecific?.severity) ?? severityOfWord(record.database_specific?.severity);
  return { severity: word ?? 'UNDEFINED' };
}
