/** PendingDownloadKey: the one-time key of GET /api/download/:guid/:token. */
import { randomBytes, randomUUID } from 'node:crypto';
import { defineConcept } from './concept.js';
import { field } from './field.js';

/** A one-time download key: a guid and a random token (16 bytes, base64url). */
export class PendingDownloadKey extends defineConcept('PendingDownloadKey', {
  guid: field.uuid().default(() => randomUUID()),
  token: field.string({ minLength: 1 }).default(() => randomBytes(16).toString('base64url')),
}) {}
