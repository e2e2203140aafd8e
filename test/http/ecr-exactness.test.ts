/**
 * Issue 6, findings 9 and 11–15: ECR's answers as Amazon ECR gives them — exception names, wording and
 * orders — checked on the wire against a real berth (SQLite, IAM enforced) with @aws-sdk/client-ecr and
 * raw signed requests (the SDK would refuse to send some of these).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  CreateRepositoryCommand, DescribeImagesCommand, ECRClient, PutAccountSettingCommand, PutImageCommand, PutRegistryPolicyCommand,
  SetRepositoryPolicyCommand,
} from '@aws-sdk/client-ecr';
import { SignatureV4 } from '@smithy/signature-v4';
import { uploadBlobWithEcrApi } from '../e2e/aws-helpers.js';
import { ACCOUNT, iamHarness, rejection } from './iam-helpers.js';

const h = iamHarness();
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const ECR_NAME_PATTERN = '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*';
const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let client: ECRClient | undefined;
const ecr = (): ECRClient => (client ??= new ECRClient({ endpoint: h.endpoint, region: 'us-east-1', credentials: { ...h.app.rootCredentials }, maxAttempts: 1 }));

interface Raw { status: number; type: string | undefined; message: string }

/** A SigV4-signed `POST /` sent exactly as given; `extra` headers are added after signing (e.g. a second Authorization). */
async function signedPost(service: string, target: string | undefined, body: string, opts: { headers?: Record<string, string>; extra?: Record<string, string[]> } = {}): Promise<Raw> {
  const url = new URL(h.endpoint);
  const contentType = target ? 'application/x-amz-json-1.1' : 'application/x-www-form-urlencoded; charset=utf-8';
  const signer = new SignatureV4({ service, region: 'us-east-1', credentials: { ...h.app.rootCredentials }, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', query: {},
    headers: { host: url.host, 'content-type': contentType, ...(target ? { 'x-amz-target': target } : {}), ...opts.headers }, body,
  });
  return new Promise((done, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path: '/' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (target) {
          const json = JSON.parse(text) as { __type?: string; message?: string };
          done({ status: res.statusCode ?? 0, type: json.__type, message: json.message ?? '' });
        } else {
          const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text;
          done({ status: res.statusCode ?? 0, type: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], message: unescapeXml(message) });
        }
      });
    });
    req.on('error', reject);
    for (const [k, v] of Object.entries(signed.headers)) req.setHeader(k, v);
    for (const [k, values] of Object.entries(opts.extra ?? {})) req.setHeader(k, [String(signed.headers[k] ?? signed.headers[k.toLowerCase()]), ...values]);
    req.setHeader('content-length', Buffer.byteLength(body));
    req.end(body);
  });
}

const XML_ENTITIES: Record<string, string> = { '&apos;': "'", '&quot;': '"', '&lt;': '<', '&gt;': '>', '&amp;': '&' };
const unescapeXml = (s: string): string => s.replace(/&(?:apos|quot|lt|gt|amp);/g, (e) => XML_ENTITIES[e]!);

const ECR = 'AmazonEC2ContainerRegistry_V20150921';
const ecrPost = (op: string, input: unknown, opts?: Parameters<typeof signedPost>[3]) => signedPost('ecr', `${ECR}.${op}`, JSON.stringify(input), opts);

/** Uploads a config and one layer; returns an image manifest (without `mediaType` when asked) over them. */
async function uploadImage(repositoryName: string, withMediaType = true): Promise<{ text: string; digest: string }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') }));
  const layer = randomBytes(512);
  await uploadBlobWithEcrApi(ecr(), repositoryName, config, sha256(config));
  await uploadBlobWithEcrApi(ecr(), repositoryName, layer, sha256(layer));
  const manifest = {
    schemaVersion: 2, ...(withMediaType ? { mediaType: OCI_MANIFEST } : {}),
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
  };
  const text = JSON.stringify(manifest);
  return { text, digest: sha256(text) };
}

describe('ECR reports model constraint violations as InvalidParameterException in its own words (finding 9)', () => {
  it('a name outside the pattern quotes the pattern ECR quotes', async () => {
    const r = await ecrPost('CreateRepository', { repositoryName: 'Bad_Name!' });
    assert.deepEqual(r, {
      status: 400, type: 'InvalidParameterException',
      message: `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${ECR_NAME_PATTERN}''`,
    });
  });

  it('a one-character name is too short, and an over-long one too long', async () => {
    assert.deepEqual(await ecrPost('CreateRepository', { repositoryName: 'a' }), {
      status: 400, type: 'InvalidParameterException', message: "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'",
    });
    assert.equal((await ecrPost('DescribeRepositories', { repositoryNames: ['a'.repeat(257)] })).message,
      "Invalid parameter at 'repositoryNames.1.member' failed to satisfy constraint: 'must have length less than or equal to 256'");
  });

  it('an imageTagMutability or exclusion filter type outside its enum lists the values', async () => {
    await ecr().send(new CreateRepositoryCommand({ repositoryName: 'exact/enum' }));
    const bad = await ecrPost('PutImageTagMutability', { repositoryName: 'exact/enum', imageTagMutability: 'invalid' });
    assert.deepEqual(bad, {
      status: 400, type: 'InvalidParameterException',
      message: "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'",
    });
    const filter = await ecrPost('CreateRepository', {
      repositoryName: 'exact/filters', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'REGEX', filter: 'dev*' }],
    });
    assert.deepEqual(filter, {
      status: 400, type: 'InvalidParameterException',
      message: "Invalid parameter at 'imageTagMutabilityExclusionFilters.1.member.filterType' failed to satisfy constraint: 'Member must satisfy enum value set: [WILDCARD]'",
    });
  });

  it('a registryId that is not 12 digits and a missing required member use the same form', async () => {
    assert.equal((await ecrPost('DescribeRepositories', { registryId: '12345' })).message,
      "Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''");
    assert.deepEqual(await ecrPost('CreateRepository', {}), {
      status: 400, type: 'InvalidParameterException', message: "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be null'",
    });
  });

  it('IAM keeps the Query protocol ValidationError with the AWS front-end wording', async () => {
    const r = await signedPost('iam', undefined, 'Action=CreateUser&Version=2010-05-08&UserName=bad%20name');
    assert.equal(r.type, 'ValidationError');
    assert.match(r.message, /^1 validation error detected: Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: /);
  });
});

describe('ECR image order: imageTags in the order applied, DescribeImages in push order (finding 11)', () => {
  it('tags come back v1, latest, 0-first — not sorted — and images in the order pushed', async () => {
    const repositoryName = 'exact/order';
    await ecr().send(new CreateRepositoryCommand({ repositoryName }));
    const pushed: string[] = [];
    for (const tags of [['v1', 'latest', '0-first'], ['b'], ['a']]) {
      const image = await uploadImage(repositoryName);
      for (const imageTag of tags) await ecr().send(new PutImageCommand({ repositoryName, imageTag, imageManifest: image.text }));
      pushed.push(image.digest);
    }
    const out = await ecr().send(new DescribeImagesCommand({ repositoryName }));
    assert.deepEqual(out.imageDetails?.map((d) => d.imageDigest), pushed);
    assert.deepEqual(out.imageDetails?.map((d) => d.imageTags), [['v1', 'latest', '0-first'], ['b'], ['a']]);
    const page = await ecr().send(new DescribeImagesCommand({ repositoryName, maxResults: 2 }));
    const rest = await ecr().send(new DescribeImagesCommand({ repositoryName, maxResults: 2, nextToken: page.nextToken! }));
    assert.deepEqual([...page.imageDetails!, ...rest.imageDetails!].map((d) => d.imageDigest), pushed);
  });
});

describe('ECR policies (finding 12)', () => {
  const statement = (sid: string, action: string) => ({ Sid: sid, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: action });

  it('SetRepositoryPolicy accepts two statements with the same Sid', async () => {
    await ecr().send(new CreateRepositoryCommand({ repositoryName: 'exact/policy' }));
    const policyText = JSON.stringify({ Version: '2012-10-17', Statement: [statement('same', 'ecr:BatchGetImage'), statement('same', 'ecr:GetDownloadUrlForLayer')] });
    const out = await ecr().send(new SetRepositoryPolicyCommand({ repositoryName: 'exact/policy', policyText }));
    assert.equal(out.policyText, policyText);
  });

  it('PutRegistryPolicy refuses non-ECR actions, and under REGISTRY_POLICY_SCOPE V1 (the default) every action but replication / pull-through / create', async () => {
    const policy = (action: string) => JSON.stringify({ Version: '2012-10-17', Statement: [statement('r', action)] });
    const refused = await rejection(ecr().send(new PutRegistryPolicyCommand({ policyText: policy('s3:GetObject') })));
    assert.equal(refused.name, 'InvalidParameterException');
    assert.match(refused.message, /^Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'/);
    const v1 = await rejection(ecr().send(new PutRegistryPolicyCommand({ policyText: policy('ecr:BatchGetImage') })));
    assert.equal(v1.name, 'InvalidParameterException');
    assert.match(v1.message, /'Invalid registry policy provided'.*ecr:BatchGetImage/);
    for (const action of ['ecr:ReplicateImage', 'ecr:CreateRepository', 'ecr:BatchImportUpstreamImage', 'ecr:*']) {
      await ecr().send(new PutRegistryPolicyCommand({ policyText: policy(action) }));
    }
    await ecr().send(new PutAccountSettingCommand({ name: 'REGISTRY_POLICY_SCOPE', value: 'V2' }));
    try {
      await ecr().send(new PutRegistryPolicyCommand({ policyText: policy('ecr:BatchGetImage') })); // V2: any ECR action
    } finally {
      await ecr().send(new PutAccountSettingCommand({ name: 'REGISTRY_POLICY_SCOPE', value: 'V1' }));
    }
  });
});

describe('ECR PutImage (findings 13–15)', () => {
  const repositoryName = 'exact/put';

  it('a manifest without mediaType needs imageManifestMediaType, else Invalid JSON syntax; nothing is stored', async () => {
    await ecr().send(new CreateRepositoryCommand({ repositoryName }));
    const image = await uploadImage(repositoryName, false);
    const r = await ecrPost('PutImage', { repositoryName, imageTag: 'bare', imageManifest: image.text });
    assert.deepEqual(r, { status: 400, type: 'InvalidParameterException', message: "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'" });
    const none = await rejection(ecr().send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: 'bare' }] })));
    assert.equal(none.name, 'ImageNotFoundException');
    assert.equal(none.message, `The image with imageId {imageDigest:'null', imageTag:'bare'} does not exist within the repository with name '${repositoryName}' in the registry with id '${ACCOUNT}'`);
    const ok = await ecr().send(new PutImageCommand({ repositoryName, imageTag: 'bare', imageManifest: image.text, imageManifestMediaType: OCI_MANIFEST }));
    assert.equal(ok.image?.imageId?.imageDigest, image.digest);
  });

  it('a manifest list whose child manifests are missing answers ReferencedImagesNotFoundException', async () => {
    const child = await uploadImage(repositoryName); // blobs uploaded, manifest never put
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: child.text.length, platform: { architecture: 'amd64', os: 'linux' } }] });
    const r = await ecrPost('PutImage', { repositoryName, imageTag: 'multi', imageManifest: index });
    assert.equal(r.type, 'ReferencedImagesNotFoundException');
    assert.ok(r.message.includes(child.digest) && r.message.includes(`in the registry with id '${ACCOUNT}'`), r.message);
  });

  it('the same manifest under the same tag again answers ImageAlreadyExistsException with the registry id', async () => {
    const image = await uploadImage(repositoryName);
    await ecr().send(new PutImageCommand({ repositoryName, imageTag: 'same', imageManifest: image.text }));
    const again = await rejection(ecr().send(new PutImageCommand({ repositoryName, imageTag: 'same', imageManifest: image.text })));
    assert.equal(again.name, 'ImageAlreadyExistsException');
    assert.equal(again.message, `Image with digest '${image.digest}' and tag 'same' already exists in the repository with name '${repositoryName}' in registry with id '${ACCOUNT}'`);
  });
});

describe('SigV4 on the wire (finding 5)', () => {
  it('UNSIGNED-PAYLOAD is refused on ECR, IAM and STS, though the signature itself is right', async () => {
    const unsigned = { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } };
    const e = await ecrPost('DescribeRepositories', {}, unsigned);
    assert.equal(e.type, 'InvalidSignatureException');
    assert.match(e.message, /UNSIGNED-PAYLOAD is accepted only by Amazon S3/);
    for (const [service, action] of [['iam', 'ListUsers&Version=2010-05-08'], ['sts', 'GetCallerIdentity&Version=2011-06-15']] as const) {
      const r = await signedPost(service, undefined, `Action=${action}`, unsigned);
      assert.deepEqual([r.status, r.type], [403, 'SignatureDoesNotMatch'], `${service}: ${r.message}`);
    }
    assert.equal((await ecrPost('DescribeRepositories', {})).status, 200, 'the same call with its body signed works');
  });

  it('a second Authorization header is refused, whichever of the two is valid', async () => {
    const forged = 'AWS4-HMAC-SHA256 Credential=AKIAFORGED/20260101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=00';
    const r = await ecrPost('DescribeRepositories', {}, { extra: { authorization: [forged] } });
    assert.deepEqual([r.status, r.type], [400, 'IncompleteSignatureException']);
    assert.match(r.message, /'Authorization' header must appear only once/);
  });
});
