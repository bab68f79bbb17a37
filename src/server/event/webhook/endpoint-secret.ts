/**
 * Per-endpoint signing secrets of case webhooks. A URL a user puts in `case.webhooks` never
 * gets the notifier token nor a signature made with the global secret (with those it could
 * forge events to every receiver that trusts them): it gets its own `whsec_` secret, derived
 * from each global secret, the case guid and the URL with HMAC-SHA256. Knowing a derived
 * secret reveals nothing of the global one, nor of another case's or URL's secret.
 */
import { createHmac } from 'node:crypto';
import { SECRET_PREFIX, secretKey } from '../../../helper/webhook-signature.js';

const LABEL = 'fusion-case-webhook-v1';

/** The key bytes of the case endpoint (`caseGuid`, `url`) under one global secret. */
export function endpointKey(globalSecret: string, caseGuid: string, url: string): Buffer {
  return createHmac('sha256', secretKey(globalSecret)).update(`${LABEL}\0${caseGuid.toLowerCase()}\0${url}`).digest();
}

/** The `whsec_` secret of the case endpoint (`caseGuid`, `url`) under one global secret. */
export function endpointSecret(globalSecret: string, caseGuid: string, url: string): string {
  return `${SECRET_PREFIX}${endpointKey(globalSecret, caseGuid, url).toString('base64')}`;
}

/** The case guid of a stored event document (the delivery body), or null when it has none. */
export function caseGuidOfEventBody(body: string): string | null {
  try {
    const guid = (JSON.parse(body) as { case?: { guid?: unknown } } | null)?.case?.guid;
    return typeof guid === 'string' ? guid : null;
  } catch {
    return null;
  }
}
