import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';

/** What a person needs right after `berth serve` starts: where it is, where the key is, what to try. */
export interface StartInfo {
  url: string;
  dataDir: string;
  workers: number;
  /** Where the default account's root key was written, when this data directory has that file. */
  credentialsFile: string | undefined;
  /** True when this start created the root key (first start). */
  firstStart: boolean;
  next: string[];
}

/** The URL clients use: `publicUrl`, else the listen address with the scheme TLS implies. */
export function serverUrl(config: Pick<Config, 'publicUrl' | 'listen' | 'tls'>): string {
  if (config.publicUrl) return config.publicUrl;
  const scheme = config.tls.certFile ? 'https' : 'http';
  const sep = config.listen.lastIndexOf(':');
  const host = config.listen.slice(0, sep);
  // A wildcard bind is reached on loopback from this machine.
  const shown = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
  return `${scheme}://${shown}:${config.listen.slice(sep + 1)}`;
}

export function startInfo(config: Config, opts: { workers: number; credentialsExist: boolean; firstStart: boolean }): StartInfo {
  const url = serverUrl(config);
  const host = url.replace(/^https?:\/\//, '');
  const dataDir = resolve(config.dataDir);
  const credentialsFile = opts.credentialsExist ? join(dataDir, 'credentials') : undefined;
  const tlsFlag = url.startsWith('http://') ? ' --tls-verify=false' : '';
  const creds = credentialsFile ? `AWS_SHARED_CREDENTIALS_FILE=${credentialsFile} ` : '';
  return {
    url, dataDir, workers: opts.workers, credentialsFile, firstStart: opts.firstStart,
    next: [
      `${creds}aws ecr create-repository --repository-name team/app --endpoint-url ${url}`,
      `${creds}aws ecr get-login-password --endpoint-url ${url} | podman login${tlsFlag} --username AWS --password-stdin ${host}`,
      `podman push${tlsFlag} <image> ${host}/team/app:1.0`,
    ],
  };
}

/** The banner as lines for a terminal. */
export function bannerLines(info: StartInfo): string[] {
  const lines = [
    `berth is listening on ${info.url}  (${info.workers} worker${info.workers === 1 ? '' : 's'})`,
    `  data directory  ${info.dataDir}`,
  ];
  if (info.credentialsFile) {
    lines.push(`  root key        ${info.credentialsFile}${info.firstStart ? '  (created now; mode 0600)' : ''}`);
  } else {
    lines.push('  root key        preset through BERTH_ROOT_ACCESS_KEY_ID / BERTH_ROOT_SECRET_ACCESS_KEY');
  }
  lines.push('', 'Try next:', ...info.next.map((c) => `  ${c}`), '');
  return lines;
}
