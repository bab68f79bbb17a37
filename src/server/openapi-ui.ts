/**
 * The OpenAPI UI (/api/docs), built on its first request: @fastify/swagger-ui and the
 * @fastify/static, glob and mime it brings cost ~40 ms of CPU when registered, which every
 * start paid although the UI is rarely opened. Two routes of the server (the UI's root and
 * everything under it) hand each request to a private fastify instance holding the plugin
 * (created once, not listening; `inject`), whose `swagger()` is the server's document, and
 * copy its answer.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** Headers fastify sets again for the copied answer. */
const NOT_COPIED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

/**
 * A plugin named `@fastify/swagger` (the UI declares it as a dependency) that decorates the
 * instance with the server's `swagger()`; the symbols are those fastify-plugin sets.
 */
function documentPlugin(document: FastifyInstance['swagger']): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (instance) => {
    instance.decorate('swagger', document);
  };
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: '@fastify/swagger',
    [Symbol.for('plugin-meta')]: { name: '@fastify/swagger' },
  });
}

/** Adds the UI's routes under `prefix` to `app`; `document` is the server's `swagger` decorator (the UI's /json and /yaml call it). */
export function addLazyOpenApiUi(app: FastifyInstance, prefix: string, document: FastifyInstance['swagger']): void {
  let inner: Promise<FastifyInstance> | undefined;
  const build = async (): Promise<FastifyInstance> => {
    const [{ default: fastify }, { default: swaggerUi }] = await Promise.all([import('fastify'), import('@fastify/swagger-ui')]);
    const ui = fastify({ logger: false });
    await ui.register(documentPlugin(document));
    await ui.register(swaggerUi, { routePrefix: prefix, staticCSP: true });
    await ui.ready();
    return ui;
  };
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    inner ??= build().catch((error: unknown) => {
      inner = undefined; // the next request tries again
      throw error;
    });
    const answer = await (await inner).inject({ method: request.method as 'GET' | 'HEAD', url: request.raw.url ?? prefix, headers: request.headers });
    // Not the UI's: the server's own not-found answer (the envelope), as for any other path.
    if (answer.statusCode === 404) {
      reply.callNotFound();
      return reply;
    }
    reply.code(answer.statusCode);
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !NOT_COPIED.has(name.toLowerCase())) reply.header(name, value);
    }
    return answer.rawPayload.length === 0 ? reply.send() : reply.send(answer.rawPayload);
  };
  app.get(prefix, { schema: { hide: true } }, handler);
  app.get(`${prefix}/*`, { schema: { hide: true } }, handler);
  app.addHook('onClose', async () => {
    const built = inner;
    inner = undefined;
    if (built !== undefined) await (await built.catch(() => undefined))?.close();
  });
}
