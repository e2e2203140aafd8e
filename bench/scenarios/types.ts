import type { BenchConfig } from '../config.js';
import type { BlobSource } from '../blob-source.js';
import type { Server } from '../servers.js';

export interface Metric {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  /** Required berth/distribution ratio (in the "better" direction), if the issue sets one. */
  readonly targetRatio?: number;
  /** Shown in the target column when there is no ratio target. */
  readonly targetText?: string;
}

export interface Measurement {
  readonly values: Readonly<Record<string, number>>;
  /** Facts worth printing under the table (e.g. how many pages a server actually returned). */
  readonly notes?: readonly string[];
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly metrics: readonly Metric[];
  /** Untimed preparation, once per server before the first round. */
  setup(server: Server): Promise<void>;
  /** One timed run against one server. */
  measure(server: Server, round: number): Promise<Measurement>;
}

export interface BenchContext {
  readonly config: BenchConfig;
  /** Scratch directory for generated inputs (removed at the end). */
  readonly workDir: string;
  readonly wrkBin: string;
  /** The large random blob shared by the push and pull scenarios, generated on first use. */
  blobSource(): Promise<BlobSource>;
}
