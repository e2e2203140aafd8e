// Minimal node:http client with keep-alive agents: the same code drives both servers, so any
// client-side cost is paid equally. Bodies may be buffers or streams (for 512 MiB uploads).
import http from 'node:http';
import https from 'node:https';
import { pipeline, type Readable } from 'node:stream';

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string | number>>;
  readonly body?: Buffer | string | Readable;
  readonly agent: http.Agent;
}

let trustedCa: Buffer | undefined;

/** Trust this CA (PEM) for https:// URLs from now on (berth started with BENCH_BERTH_TLS=1). */
export function trustCa(ca: Buffer): void {
  trustedCa = ca;
}

/** A keep-alive agent; an https one trusting {@link trustCa}'s CA when one was given. */
export function keepAliveAgent(maxSockets: number): http.Agent {
  return trustedCa ? new https.Agent({ keepAlive: true, maxSockets, ca: trustedCa }) : new http.Agent({ keepAlive: true, maxSockets });
}

/** Sends the request and resolves with the response head; the caller consumes the body. */
export function open(url: URL, opts: RequestOptions): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent }, resolve);
    req.once('error', reject);
    const body = opts.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else pipeline(body, req, (err) => (err ? reject(err) : undefined));
  });
}

export function collect(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => resolve(Buffer.concat(chunks)));
    res.once('error', reject);
  });
}

/** Reads and throws away the body; resolves with the byte count. */
export function drain(res: http.IncomingMessage): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    res.on('data', (c: Buffer) => {
      n += c.length;
    });
    res.once('end', () => resolve(n));
    res.once('error', reject);
  });
}

export async function request(url: URL, opts: RequestOptions): Promise<HttpResponse> {
  const res = await open(url, opts);
  const body = await collect(res);
  return { status: res.statusCode ?? 0, headers: res.headers, body };
}

export function header(res: { headers: http.IncomingHttpHeaders }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
