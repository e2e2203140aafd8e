import type { FastifyRequest } from 'fastify';

/**
 * The `WWW-Authenticate` challenge of a 401 on `/v2`: the Docker token flow (`Bearer` with the
 * realm of this listener's `/token`), with the scope the refused request needed so clients ask
 * for exactly that. docker, podman, skopeo and containerd then fetch a token — anonymously, or
 * with the Basic `AWS:<token>` login they hold — and retry with it.
 */
export function bearerChallenge(req: FastifyRequest): string {
  const origin = `${req.protocol}://${req.host}`;
  const q = req.url.indexOf('?');
  const path = q === -1 ? req.url : req.url.slice(0, q);
  const name = /^\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers)\//.exec(path)?.[1];
  const actions = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'pull,push';
  const scope = name ? `,scope="repository:${name}:${actions}"` : path.startsWith('/v2/_catalog') ? ',scope="registry:catalog:*"' : '';
  return `Bearer realm="${origin}/token",service="${req.host}"${scope}`;
}
