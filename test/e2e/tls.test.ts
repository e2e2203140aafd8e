/**
 * TLS end to end, exactly as the README tells a user: `berth cert create`, `berth serve --tls-cert
 * … --tls-key …`, clients trusting the CA (podman/skopeo `--cert-dir` holding `ca.crt`, the aws CLI
 * through `AWS_CA_BUNDLE`) — never `--tls-verify=false`. A client given another CA refuses the
 * server; SIGHUP makes new connections see a replaced certificate.
 */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { buildImageLayout } from '../fixtures/oci-image.js';
import { Podman } from './aws-helpers.js';
import { BERTH_ARGS, BerthServer, describeRun, expectOk, makeTempDir, run, sleep, toolSkipReason } from './harness.js';

const skip = (await toolSkipReason('skopeo')) ?? (await toolSkipReason('aws'));

async function certCreate(out: string): Promise<void> {
  expectOk(await run(process.execPath, [...BERTH_ARGS, 'cert', 'create', '--host', '127.0.0.1', '--host', 'localhost', '--out', out], { timeoutMs: 60_000 }));
}

/** The certificate the server presents to a new connection that trusts `ca`. */
function presented(port: number, ca: Buffer): Promise<X509Certificate> {
  return new Promise((done, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const raw = s.getPeerCertificate().raw;
      s.end();
      done(new X509Certificate(raw));
    });
    s.once('error', reject);
  });
}

describe('TLS with berth cert create', { skip: skip ?? false, timeout: 600_000 }, () => {
  let server: BerthServer;
  let tmp: string;
  let certs: string;
  before(async () => {
    tmp = makeTempDir('berth-e2e-tls-');
    certs = join(tmp, 'certs');
    await certCreate(certs);
    // Two workers: the supervisor accepts each TCP connection and a worker does the TLS handshake.
    server = await BerthServer.start({ tlsDir: certs, args: ['--workers', '2'] });
  });
  after(() => server?.dispose());

  const aws = (args: string[], caBundle: string, input?: string) => run('aws', ['--endpoint-url', server.url, '--output', 'json', ...args], {
    timeoutMs: 60_000,
    ...(input !== undefined ? { input } : {}),
    env: {
      AWS_SHARED_CREDENTIALS_FILE: join(server.dataDir, 'credentials'), AWS_CONFIG_FILE: '/dev/null', AWS_PAGER: '',
      AWS_EC2_METADATA_DISABLED: 'true', AWS_CA_BUNDLE: caBundle,
    },
  });

  it('cert create writes a CA and a server certificate for the names, signed by that CA, with a private key only for the server', async () => {
    const ca = new X509Certificate(await readFile(join(certs, 'ca.crt')));
    const leaf = new X509Certificate(await readFile(join(certs, 'server.crt')));
    assert.ok(ca.ca, 'ca.crt is a CA certificate');
    assert.ok(leaf.verify(ca.publicKey), 'server.crt is signed by ca.crt');
    assert.match(leaf.subjectAltName ?? '', /DNS:localhost/);
    assert.match(leaf.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    const again = await run(process.execPath, [...BERTH_ARGS, 'cert', 'create', '--host', 'x', '--out', certs], { timeoutMs: 60_000 });
    assert.notEqual(again.code, 0, 'existing files are never overwritten');
    assert.match(again.stderr, /exists/);
  });

  it('the aws CLI works over HTTPS with AWS_CA_BUNDLE and refuses the server with another CA', async () => {
    const created = await aws(['ecr', 'create-repository', '--repository-name', 'tls/app'], join(certs, 'ca.crt'));
    assert.equal(created.code, 0, describeRun(created, server));
    assert.match(JSON.parse(created.stdout).repository.repositoryUri as string, /^127\.0\.0\.1:\d+\/tls\/app$/);
    const other = join(tmp, 'other');
    await certCreate(other);
    const refused = await aws(['ecr', 'describe-repositories'], join(other, 'ca.crt'));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /SSL validation failed|CERTIFICATE_VERIFY_FAILED/);
  });

  it('podman logs in, pushes and pulls trusting the CA through --cert-dir; skopeo copies back byte-identical', async (t) => {
    const podman = await Podman.create([]);
    if (typeof podman === 'string') return t.skip(podman);
    try {
      // certs.d layout: a directory holding ca.crt (what /etc/containers/certs.d/<host>/ holds).
      const certDir = join(tmp, 'certs.d', server.host);
      await mkdir(certDir, { recursive: true });
      await copyFile(join(certs, 'ca.crt'), join(certDir, 'ca.crt'));
      const password = expectOk(await aws(['ecr', 'get-login-password'], join(certs, 'ca.crt')), server).stdout.trim();
      expectOk(await podman.run(['login', '--cert-dir', certDir, '--username', 'AWS', '--password-stdin', server.host], { input: password }), server);
      // podman names a layout by its path, which must be lowercase (mkdtemp's is not).
      const image = await buildImageLayout(join(podman.dir, 'image'), { layers: 2 });
      const id = await podman.load(image, server);
      const ref = `${server.host}/tls/app:v1`;
      expectOk(await podman.run(['tag', id, ref]), server);
      expectOk(await podman.run(['push', '--cert-dir', certDir, ref]), server);
      expectOk(await podman.run(['rmi', '-f', ref]), server);
      expectOk(await podman.run(['pull', '--cert-dir', certDir, ref]), server);
      const pulledId = expectOk(await podman.run(['image', 'inspect', '--format', '{{.Id}}', ref]), server).stdout.trim();
      assert.equal(pulledId, id.replace(/^sha256:/, ''), 'the pulled image is the pushed one');

      const out = join(tmp, 'pulled');
      expectOk(await run('skopeo', ['copy', '--src-cert-dir', certDir, '--src-creds', `AWS:${password}`, `docker://${ref}`, `dir:${out}`], { timeoutMs: 90_000 }), server);
      const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { layers: { digest: string }[] };
      assert.equal(manifest.layers.length, 2);
      for (const layer of manifest.layers) {
        const bytes = await readFile(join(out, layer.digest.slice('sha256:'.length)));
        assert.equal(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, layer.digest, 'every layer arrives intact over TLS');
      }

      const wrong = join(tmp, 'wrong.d');
      await mkdir(wrong, { recursive: true });
      await certCreate(join(tmp, 'wrong-ca'));
      await copyFile(join(tmp, 'wrong-ca', 'ca.crt'), join(wrong, 'ca.crt'));
      const refused = await run('skopeo', ['inspect', '--cert-dir', wrong, '--creds', `AWS:${password}`, `docker://${ref}`], { timeoutMs: 60_000 });
      assert.notEqual(refused.code, 0, 'a client trusting another CA must refuse the server');
      assert.match(refused.stderr, /x509|certificate/i);
    } finally {
      await podman.dispose();
    }
  });

  it('SIGHUP serves a replaced certificate to new connections without a restart', async () => {
    // Both workers serving, the supervisor's own server closed (its connections all ended): exactly two processes to reload.
    for (let i = 0; i < 300 && !(/its own server closed/.test(server.log()) && server.log().match(/worker ready/g)?.length === 2); i++) await sleep(100);
    const ca = await readFile(join(certs, 'ca.crt'));
    const before = await presented(server.port, ca);
    const next = join(tmp, 'next');
    await certCreate(next);
    await copyFile(join(next, 'server.crt'), join(certs, 'server.crt'));
    await copyFile(join(next, 'server.key'), join(certs, 'server.key'));
    const nextCa = await readFile(join(next, 'ca.crt'));
    server.child!.kill('SIGHUP');
    let now: X509Certificate | undefined;
    for (let i = 0; i < 50; i++) {
      now = await presented(server.port, nextCa).catch(() => undefined);
      if (now) break;
      await sleep(100);
    }
    assert.ok(now, `after SIGHUP the server still presents the old certificate\n${server.logTail()}`);
    assert.notEqual(now.fingerprint256, before.fingerprint256);
    assert.equal(now.fingerprint256, new X509Certificate(await readFile(join(next, 'server.crt'))).fingerprint256);
    // Every serving process reloads (both workers; the supervisor no longer serves by now).
    const reloaded = () => server.log().match(/TLS certificate reloaded/g)?.length ?? 0;
    for (let i = 0; i < 50 && reloaded() < 2; i++) await sleep(100);
    assert.equal(reloaded(), 2, server.logTail());
    for (let i = 0; i < 4; i++) {
      const cert = await presented(server.port, nextCa);
      assert.equal(cert.fingerprint256, now.fingerprint256, 'every worker presents the new certificate');
    }
  });
});
