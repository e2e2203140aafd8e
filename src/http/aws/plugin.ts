import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fail, isBerthError } from '../../core/errors.js';
import type { IamAccessControl } from '../../auth/iam-access.js';
import { SigV4Error, sigV4ErrorNames } from '../../auth/sigv4/index.js';
import type { AwsCallContext, AwsInput, AwsOperations, IamPrincipal } from './context.js';
import { JSON_ERRORS, QUERY_ERRORS } from './error-maps.js';
import { loadServiceModel } from './model/load.js';
import { isClientAbort } from '../access-log.js';
import { renderQueryError, renderQueryResponse } from './model/xml.js';
import { parseQueryInput } from './model/query-params.js';
import { validateInput } from './model/validate.js';
import { validationStyle } from './model/error-style.js';
import type { ServiceModel, ServiceName, ValidationProblem } from './model/types.js';

export interface AwsDeps {
  access: IamAccessControl;
  region: string;
  /** JSON 1.1 services by `X-Amz-Target` prefix. */
  json: Record<string, { service: ServiceName; signingName: string; operations: AwsOperations }>;
  /** Query services by SigV4 signing name. */
  query: Record<string, { service: ServiceName; operations: AwsOperations }>;
  /** Largest request body (UploadLayerPart carries layer bytes in base64). */
  bodyLimit: number;
  /** `scheme://host` clients reach berth at (config `publicUrl`); else each request's own. */
  publicUrl?: string | undefined;
}

type Protocol = 'json' | 'query';

/**
 * `POST /` for every AWS API berth serves: AWS JSON 1.1 (dispatched by `X-Amz-Target`) and the
 * AWS Query protocol (form `Action=…`, dispatched by the SigV4 signing name). Each request is
 * SigV4-verified, validated against the service model, authorized, then handled.
 */
export async function awsPlugin(app: FastifyInstance, deps: AwsDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.bodyLimit }, (_req, body, done) => done(null, body));
  const models = new Map<ServiceName, ServiceModel>();
  const model = (s: ServiceName) => {
    let m = models.get(s);
    if (!m) models.set(s, (m = loadServiceModel(s)));
    return m;
  };

  app.setErrorHandler((err, req, reply) => {
    const protocol: Protocol = req.headers['x-amz-target'] ? 'json' : 'query';
    renderError(err instanceof Error ? err : new Error(String(err)), protocol, req, reply);
  });

  app.post('/', async (req, reply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const target = req.headers['x-amz-target'];
    const q = req.url.indexOf('?');
    const signed = {
      method: req.method, rawPath: q === -1 ? req.url : req.url.slice(0, q), rawQuery: q === -1 ? '' : req.url.slice(q + 1),
      headers: req.headers, rawHeaders: req.raw.rawHeaders, bodySha256: createHash('sha256').update(body).digest('hex'),
    };
    const controller = new AbortController();
    reply.raw.once('close', () => controller.abort());
    const context = (principal: IamPrincipal): AwsCallContext => ({
      principal, requestId: req.id, region: deps.region, origin: deps.publicUrl ?? `${req.protocol}://${req.host}`, signal: controller.signal,
      authorize: (action, t) => deps.access.authorize({ principal, action, ...t, context: { sourceIp: req.ip, secureTransport: req.protocol === 'https' } }, controller.signal),
    });

    if (typeof target === 'string') {
      const dot = target.lastIndexOf('.');
      const svc = deps.json[target.slice(0, dot)];
      const opName = target.slice(dot + 1);
      if (!svc) throw fail('Unsupported', `unknown X-Amz-Target ${target.slice(0, 100)}`);
      const principal = await deps.access.authenticateAws(signed, [svc.signingName]);
      const m = model(svc.service);
      if (!m.operations[opName]) throw fail('Unsupported', `${svc.service} has no operation ${opName.slice(0, 100)}`);
      const op = svc.operations[opName];
      if (!op) throw fail('NotImplemented', `berth does not implement ${svc.service} operation ${opName} yet`);
      let input: unknown;
      try {
        input = body.length ? JSON.parse(body.toString('utf8')) : {};
      } catch {
        throw Object.assign(fail('ValidationError', 'the request body is not valid JSON'), { awsType: 'SerializationException' });
      }
      const problems = validateInput(m, opName, input);
      if (problems.length) throw invalidInput(svc.service, problems);
      const output = await run(op, input as AwsInput, context(principal));
      return reply.code(200).header('content-type', 'application/x-amz-json-1.1').send(JSON.stringify(output));
    }

    const form = new URLSearchParams(body.toString('utf8'));
    const principal = await deps.access.authenticateAws(signed, Object.keys(deps.query));
    const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1]
      ?? /X-Amz-Credential=[^&]*?%2F[^&]*?%2F[^&]*?%2F([^&]+?)%2F/.exec(signed.rawQuery)?.[1] ?? '';
    const svc = deps.query[scope];
    if (!svc) throw fail('Unsupported', `no Query service is signed for ${scope.slice(0, 40)}`);
    const action = form.get('Action') ?? '';
    const m = model(svc.service);
    if (!m.operations[action]) throw fail('Unsupported', `${svc.service} has no action ${action.slice(0, 100)}`);
    const op = svc.operations[action];
    if (!op) throw fail('NotImplemented', `berth does not implement ${svc.service} action ${action} yet`);
    form.delete('Action');
    form.delete('Version');
    if (svc.service === 'iam' && principal.session) {
      // As AWS: IAM is not callable with session credentials obtained without MFA.
      throw fail('AccessDenied', `User: ${principal.arn} is not authorized to perform: iam:${action} with session credentials obtained without MFA`);
    }
    const { input, problems } = parseQueryInput(m, action, form);
    if (problems.length) throw invalidInput(svc.service, problems);
    const output = await run(op, input, context(principal));
    return reply.code(200).header('content-type', 'text/xml').send(renderQueryResponse(m, action, output, req.id));
  });

  async function run(op: AwsOperations[string], input: AwsInput, ctx: AwsCallContext): Promise<Record<string, unknown>> {
    if (op.access) {
      const target = op.access(input, ctx.principal);
      await ctx.authorize(target.action, {
        ...(target.repository ? { repository: target.repository } : {}),
        ...(target.resource ? { resource: target.resource } : {}),
        ...(target.requestTags ? { requestTags: target.requestTags } : {}),
      });
    }
    return op.handle(input, ctx);
  }
}

/** The error a service answers for input its model refuses, in that service's own style. */
function invalidInput(service: ServiceName, problems: readonly ValidationProblem[]): Error {
  const style = validationStyle(service);
  return fail(style.code, style.message(problems));
}

function renderError(err: Error, protocol: Protocol, req: FastifyRequest, reply: FastifyReply): void {
  if (!isBerthError(err) && !(err instanceof SigV4Error) && isClientAbort(err, req)) {
    req.log.info({ reason: err.message }, 'client went away mid-request');
    reply.raw.destroy();
    return;
  }
  let name: string;
  let status: number;
  let message = err.message;
  if (err instanceof SigV4Error) {
    const n = sigV4ErrorNames[err.reason];
    [name, status] = protocol === 'json' ? [n.json, n.jsonStatus] : [n.query, n.queryStatus];
  } else if (isBerthError(err)) {
    const awsType = (err as { awsType?: string }).awsType;
    if (protocol === 'json') ({ type: name, status } = JSON_ERRORS[err.code]);
    else ({ code: name, status } = QUERY_ERRORS[err.code]);
    if (awsType) name = awsType;
  } else if (clientStatus(err) !== undefined) {
    status = clientStatus(err)!;
    name = protocol === 'json' ? 'SerializationException' : 'MalformedInput';
  } else {
    req.log.error({ err }, 'unhandled error');
    status = 500;
    name = protocol === 'json' ? 'ServerException' : 'ServiceFailure';
    message = `internal error; request id ${req.id}`;
  }
  if (status < 500) req.log.info({ error: name, status, reason: message }, 'client error');
  if (protocol === 'json') {
    void reply.code(status).header('content-type', 'application/x-amz-json-1.1').header('x-amzn-errortype', name)
      .send(JSON.stringify({ __type: name, message }));
  } else {
    void reply.code(status).header('content-type', 'text/xml')
      .send(renderQueryError(status >= 500 ? 'Receiver' : 'Sender', name, message, req.id));
  }
}

/** The 4xx status fastify put on its own errors (body too large, bad content type), if any. */
function clientStatus(err: Error): number | undefined {
  const s = (err as Error & { statusCode?: unknown }).statusCode;
  return typeof s === 'number' && s >= 400 && s < 500 ? s : undefined;
}
