/**
 * Route schemas compiled on first use rather than at start (decision record 0070). Fastify builds
 * every route's validators (Ajv) and response serializers (fast-json-stringify) while the app is
 * made ready: about half of a server's start-up, for routes many servers never serve. The
 * compilers here are Fastify's own defaults (`@fastify/ajv-compiler`,
 * `@fastify/fast-json-stringify-compiler`), each route's function built the first time it runs.
 * `compileAll()` builds every one that is pending — the tests call it, so a schema that does not
 * compile fails a test rather than a request.
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type Factory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
type ValidatorFactory = NonNullable<Factory['buildValidator']>;
type SerializerFactory = NonNullable<Factory['buildSerializer']>;
type Callable = (this: unknown, ...args: unknown[]) => unknown;

/** What an app's lazy compilers have handed out, to build the rest at once. */
export interface LazySchemas {
  readonly compilersFactory: Factory;
  /** Builds every function not built yet; throws the first schema that does not compile. */
  compileAll(): number;
}

/**
 * One pool of Ajv instances for the process (Fastify keeps one per app): an instance costs ~100 ms
 * to make (its meta-schemas, formats), and apps made in one process — the tests' — share it. The
 * pool is keyed by the external schemas and the options, as Fastify's own is.
 */
const sharedValidators = AjvCompiler();

export function lazySchemas(): LazySchemas {
  const pending = new Set<() => unknown>();

  /** `build` deferred to the first call (or the first read of `properties`). */
  function lazy<F extends object>(build: () => F, properties: readonly string[]): F {
    let built: Callable | undefined;
    const get = (): Callable => {
      if (built === undefined) {
        built = build() as unknown as Callable;
        pending.delete(get);
      }
      return built;
    };
    pending.add(get);
    const call = function (this: unknown, ...args: unknown[]) {
      return get().apply(this, args);
    };
    for (const property of properties) {
      // Fastify reads `schemaEnv` before a call (Ajv's root coercion) and `errors` after one; a
      // read builds the function, as a call does.
      Object.defineProperty(call, property, {
        get: () => (get() as unknown as Record<string, unknown>)[property],
      });
    }
    return call as unknown as F;
  }

  const buildValidator: ValidatorFactory = (externalSchemas, options) => {
    const compile = sharedValidators(externalSchemas, options);
    const properties = ['errors', 'schema', 'schemaEnv'];
    return (route) => lazy(() => compile(route), properties);
  };
  const buildSerializer: SerializerFactory = (externalSchemas, options) => {
    const compile = SerializerSelector()(externalSchemas, options);
    return (route) => lazy(() => compile(route), []);
  };

  return {
    compilersFactory: { buildValidator, buildSerializer } as Factory,
    compileAll() {
      let built = 0;
      for (const get of [...pending]) {
        get();
        built++;
      }
      return built;
    },
  };
}
