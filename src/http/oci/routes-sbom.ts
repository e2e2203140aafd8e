import { fail } from '../../core/errors.js';
import type { OciRoute } from './context.js';

const CYCLONEDX = 'application/vnd.cyclonedx+json';

/**
 * `GET /v2/<name>/_berth/sbom/<digest>`: the CycloneDX SBOM the scanner attached to an image, as
 * a download (berth's own endpoint; the same document is the image's CycloneDX referrer). A
 * component starting with `_` can never be part of a repository name, so this cannot shadow one.
 * Authorized like a pull.
 */
export const sbomRoutes: OciRoute[] = [{
  method: 'GET', label: 'sbom', pattern: /^\/v2\/(?<name>.+)\/_berth\/sbom\/(?<digest>[^/]+)$/, action: 'ecr:BatchGetImage',
  async handle({ reply, deps, repo, params, signal }) {
    const referrers = await deps.manifests.referrers(repo, params.digest!, CYCLONEDX, signal);
    const latest = referrers[referrers.length - 1];
    if (!latest) throw fail('ManifestNotFound', `no SBOM has been attached to ${params.digest} yet (it is made by the image's first scan)`);
    const manifest = await deps.manifests.get(repo, latest.digest, signal);
    const layer = (JSON.parse(Buffer.from(manifest.body).toString('utf8')) as { layers?: { digest: string; mediaType: string }[] }).layers?.find((l) => l.mediaType === CYCLONEDX);
    if (!layer) throw fail('ManifestNotFound', 'the SBOM referrer has no CycloneDX layer');
    const { body, size, digest, pipeTo } = await deps.blobs.open(repo, layer.digest, undefined, signal);
    // SBOMs are small: when the store offers only its buffer-reusing fast path, copy into one buffer.
    let payload: unknown = body;
    if (!payload && pipeTo) {
      const chunks: Buffer[] = [];
      await pipeTo(async (chunk) => {
        chunks.push(Buffer.from(chunk));
      });
      payload = Buffer.concat(chunks);
    }
    await reply.code(200).header('content-type', CYCLONEDX).header('content-length', size).header('docker-content-digest', digest)
      .header('content-disposition', `attachment; filename="sbom-${params.digest!.replace(':', '-')}.cdx.json"`).send(payload);
  },
}];
