import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import * as x509 from '@peculiar/x509';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const NAME_RE = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62})?)*$/;

/**
 * `berth cert create --host NAME… --out DIR`: a private CA and a server certificate it signs, for a
 * quick TLS set-up (clients trust DIR/ca.crt; `berth serve --tls-cert DIR/server.crt --tls-key
 * DIR/server.key`). ECDSA P-256 keys, SHA-256 signatures; the CA's private key is not written, so
 * nothing else can ever be signed with it. X.509 building uses @peculiar/x509 over Node's WebCrypto.
 */
export async function certCreateCommand(opts: { host: string[]; out: string; days: string }): Promise<void> {
  const days = Number(opts.days);
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Error('--days must be a whole number from 1 to 3650');
  for (const h of opts.host) {
    if (!isIP(h) && !NAME_RE.test(h)) throw new Error(`--host ${JSON.stringify(h)} is neither a DNS name nor an IP address`);
  }
  const files = await createCertificates(opts.host, days);
  const dir = resolve(opts.out);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await writeNew(join(dir, 'ca.crt'), files.caCert, 0o644);
  await writeNew(join(dir, 'server.crt'), files.serverCert, 0o644);
  await writeNew(join(dir, 'server.key'), files.serverKey, 0o600);
  process.stdout.write([
    `wrote ${join(dir, 'ca.crt')}, ${join(dir, 'server.crt')} and ${join(dir, 'server.key')} (for ${opts.host.join(', ')}; ${days} days)`,
    `serve:  berth serve --tls-cert ${join(dir, 'server.crt')} --tls-key ${join(dir, 'server.key')}`,
    `trust:  cp ${join(dir, 'ca.crt')} /etc/containers/certs.d/<host:port>/ca.crt   (podman, skopeo; docker: /etc/docker/certs.d/)`,
    `        AWS_CA_BUNDLE=${join(dir, 'ca.crt')} aws ecr … --endpoint-url https://<host:port>`,
    '',
  ].join('\n'));
}

/** PEM texts of a new CA certificate, a server certificate for `hosts` signed by it, and the server key. */
export async function createCertificates(hosts: string[], days: number): Promise<{ caCert: string; serverCert: string; serverKey: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + days * 86_400_000);
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: `CN=berth private CA ${new Date().toISOString().slice(0, 10)}`, notBefore, notAfter,
    keys: caKeys, signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serverKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: serial(), subject: `CN=${hosts[0]}`, issuer: ca.subject, notBefore, notAfter,
    publicKey: serverKeys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: isIP(h) ? 'ip' as const : 'dns' as const, value: h }))),
      await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', serverKeys.privateKey));
  const serverKey = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { caCert: `${ca.toString('pem')}\n`, serverCert: `${server.toString('pem')}\n`, serverKey };
}

/** A positive 16-byte serial (the top bit cleared so DER does not read it as negative). */
function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = b[0]! & 0x7f;
  return Buffer.from(b).toString('hex');
}

async function writeNew(file: string, text: string, mode: number): Promise<void> {
  const handle = await open(file, 'wx', mode).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EEXIST' ? new Error(`${file} exists; choose another --out or remove it first`) : err;
  });
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
