/**
 * Type-level tests of route(): `ctx.case` is a Case on routes whose spec lists `case_guid`,
 * undefined on the others, and either when the params are only known as string[]. Checked by
 * `tsc` (jest does not run this file).
 */
import type { Case, Identity } from '../../src/concept/index.js';
import type { FastifyInstance, FusionHost } from '../../src/server/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_value?: T): void {}

declare const host: FusionHost;
declare const app: FastifyInstance;

host.route(app, { method: 'GET', url: '/api/note/:case_guid', operation: 'read_note', params: ['case_guid'] }, (ctx) => {
  assertType<Equal<typeof ctx.case, Case>>();
  assertType<Equal<typeof ctx.identity, Identity>>();
  return ctx.case.name;
});

host.route(app, { method: 'GET', url: '/api/note/:case_guid/:note_guid', operation: 'read_note', params: ['case_guid', 'note_guid'] }, (ctx) => {
  assertType<Equal<typeof ctx.case, Case>>();
  return ctx.params;
});

host.route(app, { method: 'GET', url: '/api/notes', operation: 'list_notes' }, (ctx) => {
  assertType<Equal<typeof ctx.case, undefined>>();
  return ctx.query;
});

host.route(app, { method: 'GET', url: '/api/file/:guid', operation: 'file', params: ['guid'], public: true }, (ctx) => {
  assertType<Equal<typeof ctx.case, undefined>>();
  assertType<Equal<typeof ctx.identity, Identity | null>>();
  return ctx.params;
});

const someParams: readonly string[] = ['case_guid'];
host.route(app, { method: 'GET', url: '/api/any/:case_guid', operation: 'any', params: someParams }, (ctx) => {
  assertType<Equal<typeof ctx.case, Case | undefined>>();
  return ctx.case?.name;
});

host.route(app, { method: 'GET', url: '/api/notes', operation: 'list_notes' }, (ctx) => {
  // @ts-expect-error no case_guid param: no case to read
  return ctx.case.name;
});
