/**
 * Whether a request comes from another site: edf_fusion's logout is a GET, which a link or an
 * image on any site can trigger (SameSite=Lax sends the cookie with top-level GETs). Browsers
 * say where a request comes from in `Sec-Fetch-Site`, older ones in `Origin`; clients that are
 * not browsers send neither and are not affected.
 */
import type { FastifyRequest } from 'fastify';

/** True when the browser says the request was made by another site. */
export function isCrossSite(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string') return site.toLowerCase() === 'cross-site';
  const origin = request.headers.origin;
  if (typeof origin !== 'string') return false;
  if (origin === 'null') return true;
  try {
    return new URL(origin).host.toLowerCase() !== String(request.headers.host ?? '').toLowerCase();
  } catch {
    return true;
  }
}
