/**
 * How request bodies are read. JSON must be UTF-8 (a `charset` other than utf-8 is refused with
 * 415, bytes that are not UTF-8 with 400: no silent U+FFFD), with fastify's own parser and its
 * prototype-poisoning refusal after that. A route that takes no body accepts an empty body of
 * any Content-Type (edf_fusion's aiohttp client sends `application/octet-stream` on body-less
 * PUTs); a non-empty body of any type but JSON is refused with 415.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FusionError } from '../helper/errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** True when the route `request` matched declares no body schema (it takes no body). */
function takesNoBody(request: FastifyRequest): boolean {
  const schema = request.routeOptions?.schema as { body?: unknown } | undefined;
  return schema?.body === undefined;
}

/** The `charset` parameter of a Content-Type, lowercased, or undefined. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return match?.[1]?.toLowerCase();
}

/** Installs the JSON parser and the catch-all for other types on the root instance. */
export function installBodyParsers(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    const charset = charsetOf(request.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(new FusionError('FUSION_ERR_UNSUPPORTED_MEDIA_TYPE', `unsupported charset ${JSON.stringify(charset.slice(0, 40))}: send JSON as UTF-8`, { status: 415 }), undefined);
      return;
    }
    if (body.length === 0 && takesNoBody(request)) {
      done(null, undefined);
      return;
    }
    let text: string;
    try {
      text = strictUtf8.decode(body);
    } catch {
      done(new FusionError('FUSION_ERR_BAD_JSON', 'request body is not valid UTF-8: send JSON encoded as UTF-8'), undefined);
      return;
    }
    parseJson(request, text, done);
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    const type = String(request.headers['content-type'] ?? '').slice(0, 80);
    done(new FusionError('FUSION_ERR_UNSUPPORTED_MEDIA_TYPE', `unsupported Content-Type ${JSON.stringify(type)}: send the body as application/json`, { status: 415 }), undefined);
  });
}
