import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { Case, field } from '../../../src/concept/index.js';
import { FusionError } from '../../../src/helper/errors.js';
import { FusionAPI } from '../../../src/server/api.js';
import { FusionCaseAPI } from '../../../src/server/case/index.js';
import type { CaseEventCategory, CreateCaseContext, EnumerateCasesContext } from '../../../src/server/case/index.js';
import { parseConfig } from '../../../src/server/config.js';
import { FusionServer } from '../../../src/server/server.js';
import type { TestServer } from '../../../src/testing/index.js';
import { describeStorage } from '../../helpers/storage.js';
import { silenceAudit, startCaseServer, tag } from './helpers.js';

/** A service's case: one more field. */
class TimelineCase extends Case.extend('TimelineCase', { color: field.string().default('red') }) {}

/** A service route on a case: the prologue loads the case through the case API's retrieve step. */
class NotesAPI extends FusionAPI {
  readonly name = 'notes';
  setup(app: FastifyInstance, server: FusionServer): void {
    server.route(app, { method: 'GET', url: '/api/notes/:case_guid', operation: 'read_notes', params: ['case_guid'] }, (ctx) => ({
      case_name: ctx.case?.name,
    }));
  }
}

/** Overrides by subclassing: stamps a tsid, hides drafts from listings, records events. */
class StampingCaseAPI extends FusionCaseAPI {
  readonly events: [CaseEventCategory, string][] = [];

  protected override async createCase(ctx: CreateCaseContext): Promise<Case> {
    ctx.case.tsid = `TS-${ctx.identity.username}`;
    return super.createCase(ctx);
  }

  protected override async enumerateCases(ctx: EnumerateCasesContext): Promise<Case[]> {
    return (await super.enumerateCases(ctx)).filter((c) => !c.name.startsWith('draft'));
  }

  protected override async onCaseEvent(category: CaseEventCategory, c: Case): Promise<void> {
    this.events.push([category, c.guid]);
    if (c.name === 'explode') throw new Error('notifier down');
  }
}

describeStorage('FusionCaseAPI overrides', (getStorage) => {
  silenceAudit();

  describe('by subclass', () => {
    let t: TestServer;
    let api: StampingCaseAPI;

    beforeAll(async () => {
      api = new StampingCaseAPI();
      t = await startCaseServer(getStorage(), { apis: [api] });
    }, 60_000);
    afterAll(async () => {
      await t?.close();
    });

    it('runs the overridden steps and calls onCaseEvent after each change', async () => {
      const { user, service } = t.clients;
      const created = await user.case.createCase({ name: `stamped ${tag()}` });
      expect(created.tsid).toBe('TS-alice');
      const draft = await user.case.createCase({ name: `draft ${tag()}` });
      const listed = (await user.case.enumerateCases()).map((c) => c.guid);
      expect(listed).toContain(created.guid);
      expect(listed).not.toContain(draft.guid);
      await user.case.updateCase(created.guid, { description: 'x' });
      const next = randomUUID();
      await service.case.attachCase(created.guid, next);
      await user.case.deleteCase(next);
      expect(api.events.filter(([, guid]) => [created.guid, next].includes(guid))).toEqual([
        ['create_case', created.guid],
        ['update_case', created.guid],
        ['attach_case', next],
        ['delete_case', next],
      ]);
    });

    it('answers success when onCaseEvent throws: the change is stored', async () => {
      const created = await t.clients.user.case.createCase({ name: 'explode' });
      expect(await getStorage().retrieveCase(Case, created.guid)).not.toBeNull();
    });
  });

  describe('by hooks', () => {
    let t: TestServer;
    const retrieved: string[] = [];

    beforeAll(async () => {
      const api = new FusionCaseAPI({
        hooks: {
          retrieveCase: async (ctx, next) => {
            retrieved.push(ctx.caseGuid);
            const found = await next();
            return found?.name.startsWith('ghost') ? null : found;
          },
          deleteCase: async (ctx, next) => {
            if (ctx.case.managed) throw new FusionError('FUSION_ERR_FORBIDDEN', 'managed cases are deleted by the service that manages them');
            return next();
          },
          createCase: (ctx) => ctx.server.storage.createCase(ctx.case.clone().update({ description: `by ${ctx.identity.username}` })),
        },
      });
      t = await startCaseServer(getStorage(), { apis: [api, new NotesAPI()] });
    }, 60_000);
    afterAll(async () => {
      await t?.close();
    });

    it('replaces a step, or wraps it with next()', async () => {
      const created = await t.clients.user.case.createCase({ name: `hooked ${tag()}` });
      expect(created.description).toBe('by alice');
      const managed = await t.clients.service.case.createCase({ name: `managed ${tag()}` });
      await expect(t.clients.user.case.deleteCase(managed.guid)).rejects.toMatchObject({ status: 403, message: /deleted by the service/ });
      await t.clients.user.case.deleteCase(created.guid);
    });

    it('serves every case_guid route (a service API too) through the retrieve step', async () => {
      const visible = await t.clients.user.case.createCase({ name: `visible ${tag()}` });
      const ghost = await t.clients.user.case.createCase({ name: `ghost ${tag()}` });
      expect(await t.clients.user.client.get(`/api/notes/${visible.guid}`)).toEqual({ case_name: visible.name });
      expect(retrieved).toContain(visible.guid);
      await expect(t.clients.user.client.get(`/api/notes/${ghost.guid}`)).rejects.toMatchObject({ status: 404 });
      await expect(t.clients.user.case.retrieveCase(ghost.guid)).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_CASE_NOT_FOUND' });
    });
  });

  describe('with a Case subclass', () => {
    let t: TestServer<TimelineCase>;

    beforeAll(async () => {
      t = await startCaseServer<TimelineCase>(getStorage(), { caseClass: TimelineCase });
    }, 60_000);
    afterAll(async () => {
      await t?.close();
    });

    it('stores, serves and decodes the subclass fields through the API and the client', async () => {
      const created = await t.clients.user.case.createCase({ name: `timeline ${tag()}`, color: 'blue' });
      expect(created).toBeInstanceOf(TimelineCase);
      expect(created.color).toBe('blue');
      expect((await getStorage().retrieveCase(TimelineCase, created.guid))?.color).toBe('blue');
      const updated = await t.clients.user.case.updateCase(created.guid, { color: 'green' });
      expect(updated.color).toBe('green');
      const listed = await t.clients.user.case.enumerateCases();
      expect(listed.every((c) => c instanceof TimelineCase)).toBe(true);
      expect(listed.find((c) => c.guid === created.guid)?.color).toBe('green');
      expect(t.server.caseClass).toBe(TimelineCase);
    });

    it('validates the subclass fields and names the subclass in messages', async () => {
      await expect(t.clients.user.case.createCase({ name: 'x', color: 7 } as never)).rejects.toMatchObject({
        status: 400,
        message: /^TimelineCase\.color: expected string/,
      });
      await expect(t.clients.user.case.createCase({ name: 'x', shape: 'round' } as never)).rejects.toMatchObject({
        status: 400,
        message: /^TimelineCase\.shape: unknown field/,
      });
    });
  });
});

describe('FusionCaseAPI options', () => {
  it('refuses bad hooks, classes and configs at construction', () => {
    expect(() => new FusionCaseAPI({ hooks: { createcase: () => null } as never })).toThrow('options.hooks.createcase is not a step');
    expect(() => new FusionCaseAPI({ hooks: { createCase: 42 } as never })).toThrow('options.hooks.createCase must be a function');
    expect(() => new FusionCaseAPI({ caseClass: {} as never })).toThrow('caseClass must be Case or a subclass');
    expect(() => new FusionCaseAPI({ config: {} as never })).toThrow('options.config must be a parsed case section');
  });

  it('refuses at start a server and an API decoding cases with two different classes', async () => {
    class OtherCase extends Case.extend('OtherCase', { shape: field.string().default('round') }) {}
    const config = parseConfig({ server: { log_level: 'silent' }, storage: { url: 'memory://' } });
    const server = new FusionServer({ config, caseClass: OtherCase, apis: [new FusionCaseAPI({ caseClass: TimelineCase })] });
    await expect(server.start()).rejects.toThrow('the server decodes cases as OtherCase but the case API as TimelineCase');
    await server.close();
  });
});
