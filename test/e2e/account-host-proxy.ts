/**
 * A forward HTTP proxy for the e2e suites that lets real clients reach berth's per-account hosts
 * (`<account>.localhost:<port>`) on a machine whose resolver does not map `*.localhost` to the
 * loopback address (glibc without nss-myhostname; Go's own resolver). Clients get it through
 * `HTTP_PROXY`, which podman, skopeo and the aws CLI honour for `http://` URLs: the client sends
 * `GET http://<account>.localhost:<port>/v2/…` here and this forwards it to 127.0.0.1:<port>
 * unchanged — the `Host` header still names the account, which is what berth reads. Only
 * `localhost` names are forwarded, so nothing leaves the machine.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class AccountHostProxy {
  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(): Promise<AccountHostProxy> {
    const server = createServer((req, res) => {
      let target: URL;
      try {
        target = new URL(req.url ?? '');
      } catch {
        res.writeHead(400).end('absolute-form request URL expected');
        return;
      }
      if (target.protocol !== 'http:' || !(target.hostname === 'localhost' || target.hostname.endsWith('.localhost'))) {
        res.writeHead(403).end('this proxy forwards only to *.localhost');
        return;
      }
      const headers = { ...req.headers };
      delete headers['proxy-connection'];
      delete headers['proxy-authorization'];
      const upstream = request({ host: '127.0.0.1', port: Number(target.port || 80), method: req.method, path: `${target.pathname}${target.search}`, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502);
        res.end(String(err));
      });
      req.pipe(upstream);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return new AccountHostProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }

  /** Environment that sends a client's plain-HTTP requests through this proxy. */
  get env(): NodeJS.ProcessEnv {
    return { HTTP_PROXY: this.url, http_proxy: this.url, NO_PROXY: '', no_proxy: '' };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }
}
