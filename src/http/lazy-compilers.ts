import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type Compilers = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type ValidatorFactory = NonNullable<Compilers['buildValidator']>;
type SerializerFactory = NonNullable<Compilers['buildSerializer']>;

/**
 * Fastify's JSON-schema compilers (ajv, fast-json-stringify), loaded the first time a route declares
 * a schema instead of when the instance is created: loading ajv was ~10 % of a server start
 * (issue 12), and no berth route declares one. Resolved the way fastify itself resolves them (its
 * own dependencies) and used exactly as fastify would use them, so a route that declares a schema
 * later behaves as before.
 */
export function lazySchemaCompilers(): { compilersFactory: Compilers } {
  // A plain require at run time: the bundle must not carry ajv on the start path. Resolved relative
  // to fastify, whose dependencies these are.
  const fromFastify = () => createRequire(createRequire(import.meta.url).resolve('fastify'));
  let validator: ValidatorFactory | undefined;
  let serializer: SerializerFactory | undefined;
  return {
    compilersFactory: {
      buildValidator: (externalSchemas, options) => {
        validator ??= (fromFastify()('@fastify/ajv-compiler') as () => ValidatorFactory)();
        return validator(externalSchemas, options);
      },
      buildSerializer: (externalSchemas, options) => {
        serializer ??= (fromFastify()('@fastify/fast-json-stringify-compiler') as { SerializerSelector: () => SerializerFactory }).SerializerSelector();
        return serializer(externalSchemas, options);
      },
    },
  };
}
