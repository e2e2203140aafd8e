/**
 * Registry logins the way users do them: `aws ecr get-login-password | podman login --username AWS
 * --password-stdin`, then podman, skopeo (same auth file) and the docker CLI (through
 * `podman system service`, `docker login`) push and pull. Also what `/v2` answers without, with
 * forged and with altered credentials, and tag immutability as podman reports it.
 *
 * podman runs on an isolated store whose default auth file is empty, so nothing here is
 * authenticated by the harness's own login: every registry command uses only the login the
 * test made.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { CreateRepositoryCommand } from '@aws-sdk/client-ecr';
import { buildImageLayout, sha256, type BuiltImage } from '../fixtures/oci-image.js';
import { Podman, awsCli, basicAuth } from './aws-helpers.js';
import { BerthServer, describeRun, expectOk, run, toolSkipReason, type RunResult } from './harness.js';

const awsSkip = await toolSkipReason('aws');

describe('registry logins against one berth', { timeout: 600_000 }, () => {
  let server: BerthServer;
  before(async () => {
    server = await BerthServer.start();
  });
  after(async () => {
    await server?.dispose();
  });

  describe('/v2 authentication', () => {
    const v2 = async (authorization?: string): Promise<Response> => {
      const res = await server.fetch('/v2/', authorization ? { headers: { authorization } } : { anonymous: true });
      await res.arrayBuffer();
      return res;
    };

    it('GET /v2/ without credentials is 401 with the Bearer challenge of /token and an UNAUTHORIZED error', async () => {
      const res = await server.fetch('/v2/', { anonymous: true });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="http:\/\/[^"]+\/token",service="[^"]+"$/);
      const body = await res.json() as { errors: { code: string }[] };
      assert.equal(body.errors[0]?.code, 'UNAUTHORIZED');
    });

    it('GET /v2/ with the AWS:<token> from GetAuthorizationToken is 200', async () => {
      assert.equal((await v2(basicAuth(server.password))).status, 200);
    });

    it('a made-up password, a non-token, a wrong user name and a Bearer of no token are 401', async () => {
      for (const auth of [basicAuth('hunter2'), basicAuth('b1.e30.AAAA'), basicAuth(''), basicAuth(server.password, 'admin'), `Bearer ${server.password.slice(0, -2)}`, 'Bearer b1a.e30.AAAA', 'Basic !!!not-base64']) {
        const res = await v2(auth);
        assert.equal(res.status, 401, `${auth.slice(0, 30)}… answered ${res.status}`);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
      }
    });

    it('Bearer with the registry token (what /token hands a logged-in client) is 200', async () => {
      assert.equal((await v2(`Bearer ${server.password}`)).status, 200);
    });

    it('a token whose payload was altered (a later expiry, another key, another account) is 401: the MAC covers the claims', async () => {
      // Tokens are b1.<base64url JSON {a: account, k: access key, e: expiry ms}>.<MAC>. Real expiry
      // cannot be reached here: berth has no clock seam a process test could move, and tokens live
      // 12 h. That a token past `e` is refused is proven by the RegistryTokens unit tests; this
      // proves the claims — the expiry included — cannot be changed without the MAC failing.
      const [prefix, payload, mac] = server.password.split('.');
      assert.equal(prefix, 'b1');
      assert.ok(payload && mac);
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { a: string; k: string; e: number };
      assert.equal(claims.k, server.rootKey.accessKeyId);
      assert.ok(claims.e > Date.now());
      const forge = (c: object) => `b1.${Buffer.from(JSON.stringify(c)).toString('base64url')}.${mac}`;
      for (const altered of [{ ...claims, e: claims.e + 86_400_000 }, { ...claims, e: Date.now() - 1000 }, { ...claims, k: 'AKIAOTHERKEY00000000' }, { ...claims, a: '111111111111' }]) {
        assert.equal((await v2(basicAuth(forge(altered)))).status, 401, JSON.stringify(altered));
      }
      const flipped = `${prefix}.${payload}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
      assert.equal((await v2(basicAuth(flipped))).status, 401);
      assert.equal((await v2(basicAuth(`${prefix}.${payload}`))).status, 401);
    });
  });

  describe('podman, skopeo and docker log in with aws ecr get-login-password', { skip: awsSkip ?? false }, () => {
    let podman: Podman | undefined;
    let unusable: string | undefined;
    let image: BuiltImage;
    let imageId = '';
    let authFile = '';
    let password = '';
    /** Manifest digest podman pushed as login/app:v1 (podman recompresses layers, so not the fixture's). */
    let pushed = '';

    const pod = (args: string[], input?: string): Promise<RunResult> => podman!.run(args, input !== undefined ? { input } : {});
    const ok = async (args: string[]): Promise<RunResult> => expectOk(await pod(args), server);
    const skipIfUnusable = (t: TestContext): boolean => {
      if (unusable) t.skip(unusable);
      return unusable !== undefined;
    };

    before(async () => {
      const p = await Podman.create([server.host, `localhost:${server.port}`]);
      if (typeof p === 'string') {
        unusable = p;
        return;
      }
      podman = p;
      authFile = join(podman.dir, 'login-auth.json');
      image = await buildImageLayout(join(podman.dir, 'layout-a'), { layers: 2 });
      imageId = await podman.load(image, server);
      await server.ensureRepository('login/app');
      await server.ecr.send(new CreateRepositoryCommand({ repositoryName: 'login/immutable', imageTagMutability: 'IMMUTABLE' }));
    });
    after(async () => {
      await podman?.dispose();
    });

    it('podman push without logging in is refused as unauthorized', async (t) => {
      if (skipIfUnusable(t)) return;
      await ok(['tag', imageId, `${server.host}/login/app:v1`]);
      const r = await pod(['push', '--tls-verify=false', `${server.host}/login/app:v1`]);
      assert.notEqual(r.code, 0, describeRun(r, server));
      assert.match(r.stderr, /unauthorized|authentication required/i, describeRun(r, server));
    });

    it('aws ecr get-login-password | podman login --username AWS --password-stdin succeeds and stores AWS:<password>', async (t) => {
      if (skipIfUnusable(t)) return;
      const pw = expectOk(await awsCli(server, ['ecr', 'get-login-password']), server);
      password = pw.stdout.trim();
      assert.match(password, /^b1\./);
      const r = expectOk(await pod(['login', '--authfile', authFile, '--tls-verify=false', '--username', 'AWS', '--password-stdin', server.host], pw.stdout), server);
      assert.match(r.stdout, /Login Succeeded/i);
      const auths = (JSON.parse(await readFile(authFile, 'utf8')) as { auths: Record<string, { auth: string }> }).auths;
      assert.equal(Buffer.from(auths[server.host]?.auth ?? '', 'base64').toString('utf8'), `AWS:${password}`);
    });

    it('podman login with a wrong password fails', async (t) => {
      if (skipIfUnusable(t)) return;
      const r = await pod(['login', '--authfile', join(podman!.dir, 'bad-auth.json'), '--tls-verify=false', '--username', 'AWS', '--password-stdin', server.host], 'b1.nope.nope');
      assert.notEqual(r.code, 0, describeRun(r, server));
      assert.match(r.stderr, /unauthorized|invalid username\/password|authentication required/i);
    });

    it('after login podman pushes, and pulls back the same image', async (t) => {
      if (skipIfUnusable(t) || !password) return t.skip(unusable ?? 'podman login failed (see above)');
      const name = `${server.host}/login/app:v1`;
      const digestFile = join(podman!.dir, 'push.digest');
      await ok(['push', '--authfile', authFile, '--tls-verify=false', '--digestfile', digestFile, name]);
      pushed = (await readFile(digestFile, 'utf8')).trim();
      const res = await server.fetch('/v2/login/app/manifests/v1', { headers: { accept: image.manifest.mediaType } });
      assert.equal(res.status, 200);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), pushed);
      await ok(['rmi', '-f', name, imageId]);
      await ok(['pull', '--authfile', authFile, '--tls-verify=false', name]);
      const [inspected] = JSON.parse((await ok(['image', 'inspect', name])).stdout) as { Id: string; Digest: string }[];
      assert.equal(inspected?.Id, imageId);
      assert.equal(inspected?.Digest, pushed);
    });

    it('skopeo with the auth file podman login wrote inspects and copies the image; without it, it is refused', async (t) => {
      if (skipIfUnusable(t) || !password) return t.skip(unusable ?? 'podman login failed (see above)');
      const skopeoSkip = await toolSkipReason('skopeo');
      if (skopeoSkip) return t.skip(skopeoSkip);
      const ref = `docker://${server.host}/login/app:v1`;
      const inspect = expectOk(await run('skopeo', ['inspect', '--authfile', authFile, '--tls-verify=false', ref], { env: podman!.env }), server);
      const info = JSON.parse(inspect.stdout) as { Digest: string; Layers: string[] };
      assert.equal(info.Digest, pushed);
      assert.equal(info.Layers.length, image.layers.length);
      const dest = join(podman!.dir, 'skopeo-copy');
      expectOk(await run('skopeo', ['copy', '--src-authfile', authFile, '--src-tls-verify=false', ref, `oci:${dest}:v1`], { env: podman!.env, timeoutMs: 60_000 }), server);
      const index = JSON.parse(await readFile(join(dest, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
      assert.equal(index.manifests[0]?.digest, pushed);
      const anon = await run('skopeo', ['inspect', '--tls-verify=false', ref], { env: podman!.env });
      assert.notEqual(anon.code, 0, describeRun(anon, server));
      assert.match(anon.stderr, /unauthorized|authentication required/i);
    });

    it('podman push to a repository nobody created fails naming the repository (no create-on-push, as in ECR)', async (t) => {
      if (skipIfUnusable(t) || !password) return t.skip(unusable ?? 'podman login failed (see above)');
      const name = `${server.host}/login/never-created:v1`;
      await ok(['tag', imageId, name]);
      const r = await pod(['push', '--authfile', authFile, '--tls-verify=false', name]);
      assert.notEqual(r.code, 0, describeRun(r, server));
      assert.match(r.stderr, /name unknown|does not exist/i, describeRun(r, server));
      assert.match(r.stderr, /login\/never-created/, describeRun(r, server));
    });

    it('pushing a different image to an IMMUTABLE tag fails and podman shows "already exists … cannot be overwritten"', async (t) => {
      if (skipIfUnusable(t) || !password) return t.skip(unusable ?? 'podman login failed (see above)');
      const name = `${server.host}/login/immutable:v1`;
      await ok(['tag', imageId, name]);
      const digestFile = join(podman!.dir, 'immutable.digest');
      await ok(['push', '--authfile', authFile, '--tls-verify=false', '--digestfile', digestFile, name]);
      const first = (await readFile(digestFile, 'utf8')).trim();
      const other = await buildImageLayout(join(podman!.dir, 'layout-b'), { layers: 1 });
      const otherId = await podman!.load(other, server);
      await ok(['tag', otherId, name]);
      const r = await pod(['push', '--authfile', authFile, '--tls-verify=false', name]);
      assert.notEqual(r.code, 0, describeRun(r, server));
      assert.match(r.stderr, /already exists.*cannot be overwritten/i, describeRun(r, server));
      const res = await server.fetch('/v2/login/immutable/manifests/v1', { method: 'HEAD', headers: { accept: image.manifest.mediaType } });
      assert.equal(res.headers.get('docker-content-digest'), first, 'the immutable tag moved');
    });

    describe('the docker CLI through podman system service', () => {
      let dockerHost = '';
      let dockerConfig = '';
      let dockerUnusable: string | undefined;
      const registry = () => `localhost:${server.port}`;
      const docker = (args: string[], input?: string) => run('docker', args, {
        env: { DOCKER_HOST: dockerHost, DOCKER_CONFIG: dockerConfig }, timeoutMs: 120_000, ...(input !== undefined ? { input } : {}),
      });
      const skipDocker = (t: TestContext): boolean => {
        const reason = unusable ?? dockerUnusable;
        if (reason) t.skip(reason);
        return reason !== undefined;
      };

      before(async () => {
        if (unusable || !podman) return;
        dockerUnusable = await toolSkipReason('docker');
        if (dockerUnusable) return;
        dockerConfig = join(podman.dir, 'docker-config');
        try {
          dockerHost = await podman.startDockerService();
        } catch (err) {
          dockerUnusable = `podman system service cannot serve the docker CLI here: ${(err as Error).message}`;
          process.stderr.write(`# SKIP ${dockerUnusable}\n`);
        }
        await server.ensureRepository('login/docker');
      });

      it('docker push before docker login is refused', async (t) => {
        if (skipDocker(t)) return;
        expectOk(await docker(['tag', imageId, `${registry()}/login/docker:v1`]), server);
        const r = await docker(['push', `${registry()}/login/docker:v1`]);
        assert.notEqual(r.code, 0, describeRun(r, server));
        assert.match(`${r.stdout}${r.stderr}`, /unauthorized|authentication required|no basic auth credentials/i, describeRun(r, server));
      });

      it('docker login with a wrong password fails; with get-login-password it succeeds', async (t) => {
        if (skipDocker(t)) return;
        const bad = await docker(['login', '--username', 'AWS', '--password-stdin', registry()], 'wrong');
        assert.notEqual(bad.code, 0, describeRun(bad, server));
        const pw = expectOk(await awsCli(server, ['ecr', 'get-login-password']), server);
        const r = expectOk(await docker(['login', '--username', 'AWS', '--password-stdin', registry()], pw.stdout), server);
        assert.match(r.stdout, /Login Succeeded/);
        const config = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
        assert.match(Buffer.from(config.auths[registry()]?.auth ?? '', 'base64').toString('utf8'), /^AWS:b1\./);
      });

      it('docker push and docker pull round-trip the image', async (t) => {
        if (skipDocker(t)) return;
        const name = `${registry()}/login/docker:v1`;
        const push = expectOk(await docker(['push', name]), server);
        const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)?.[1];
        assert.ok(digest, push.stdout);
        const res = await server.fetch('/v2/login/docker/manifests/v1', { method: 'HEAD', headers: { accept: `${image.manifest.mediaType}, application/vnd.docker.distribution.manifest.v2+json` } });
        assert.equal(res.headers.get('docker-content-digest'), digest);
        expectOk(await docker(['rmi', name]), server);
        expectOk(await docker(['pull', name]), server);
        const id = expectOk(await docker(['image', 'inspect', '--format', '{{.Id}}', name]), server).stdout.trim();
        assert.equal(id.replace(/^sha256:/, ''), imageId);
      });
    });
  });
});
