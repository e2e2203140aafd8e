/**
 * Which account a `/v2` request addresses, and at which host each account's registry answers.
 * Each account is its own registry, as on ECR: `<account>.<registry host>` by default (configurable
 * as a pattern with `{account}`, `{region}` and `{host}`, e.g. `{account}.dkr.ecr.{region}.amazonaws.com`),
 * or explicit host → account mappings. Every other host — the bare registry host above all — is
 * the default account's, so a single-account set-up works unchanged.
 *
 * Hand-written because it is a dozen lines of string work on a Host header; no library does
 * "placeholder pattern ↔ host" both ways.
 */
export interface AccountHostsOptions {
  /** How an account's host is named (without port); must contain `{account}`. */
  pattern: string;
  /** Host name (without port, any case) → account id. */
  map: Readonly<Record<string, string>>;
  region: string;
  defaultAccountId: string;
}

interface HostPort {
  host: string;
  /** `:port` or empty. */
  port: string;
}

/** `host[:port]` (IPv6 in brackets) split, the host lower-cased; a trailing dot of an FQDN dropped. */
function splitHost(hostHeader: string): HostPort {
  const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(hostHeader.trim().toLowerCase());
  const host = (m?.[1] ?? '').replace(/\.$/, '');
  return { host, port: m?.[2] ?? '' };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\])$/;

export class AccountHosts {
  readonly #match: RegExp;
  readonly #hostGroup: number | undefined;
  readonly #map = new Map<string, string>();
  readonly #byAccount = new Map<string, string>();

  constructor(private readonly opts: AccountHostsOptions) {
    let group = 0;
    let accountGroup = 0;
    let hostGroup: number | undefined;
    const re = opts.pattern.toLowerCase().split(/(\{account\}|\{region\}|\{host\})/).map((part) => {
      if (part === '{account}') {
        accountGroup = ++group;
        return '(\\d{12})';
      }
      if (part === '{host}') {
        hostGroup = ++group;
        return '(.+)';
      }
      if (part === '{region}') return escapeRe(opts.region);
      return escapeRe(part);
    }).join('');
    if (accountGroup !== 1) throw new Error('accountHosts.pattern must contain {account} before {host}');
    this.#match = new RegExp(`^${re}$`);
    this.#hostGroup = hostGroup;
    for (const [host, account] of Object.entries(opts.map)) {
      const h = splitHost(host).host;
      this.#map.set(h, account);
      if (!this.#byAccount.has(account)) this.#byAccount.set(account, h);
    }
  }

  /** The account a request addressed through its `Host` header. */
  accountOf(hostHeader: string | undefined): string {
    const { host } = splitHost(hostHeader ?? '');
    const mapped = this.#map.get(host);
    if (mapped) return mapped;
    return this.#match.exec(host)?.[1] ?? this.opts.defaultAccountId;
  }

  /**
   * `scheme://host[:port]` of `accountId`'s registry, given the origin clients reach berth on
   * (the request's, or the configured public URL). The port and scheme of `baseOrigin` are kept.
   * The default account answers on the bare host when the pattern is relative to it (`{host}`).
   */
  originFor(accountId: string, baseOrigin: string): string {
    const m = /^([a-z][a-z0-9+.-]*:\/\/)?(.*)$/i.exec(baseOrigin)!;
    const scheme = m[1] ?? '';
    const { host, port } = splitHost(m[2] ?? '');
    const mapped = this.#byAccount.get(accountId);
    if (mapped) return `${scheme}${mapped}${port}`;
    // The base may itself be an account host (a client called the API on one): use its base.
    const own = this.#map.has(host) || this.#hostGroup === undefined ? undefined : this.#match.exec(host);
    const bare = own ? own[this.#hostGroup!]! : host;
    if (this.#hostGroup !== undefined && accountId === this.opts.defaultAccountId) return `${scheme}${bare}${port}`;
    // `<account>.127.0.0.1` names nothing; on a loopback address, localhost's subdomains do.
    const base = LOOPBACK.test(bare) ? 'localhost' : bare;
    const name = this.opts.pattern.toLowerCase()
      .replaceAll('{account}', accountId).replaceAll('{region}', this.opts.region).replaceAll('{host}', base);
    return `${scheme}${name}${port}`;
  }
}
