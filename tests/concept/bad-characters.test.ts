/**
 * NUL and unpaired surrogates are refused in every string of every built-in concept, by
 * fromJSON and update, with a ConceptError (400) naming `Class.field`.
 */
import { describe, expect, it } from '@jest/globals';
import { AnalyzerInfo, AuthInfo, Case, ConceptError, Constant, Event, Identities, Identity, Info, PendingDownloadKey } from '../../src/concept/index.js';
import type { AnyConceptClass, AnyField } from '../../src/concept/index.js';
import { badTextProblem } from '../../src/concept/text-check.js';
import { edfFixture } from './fixtures.js';

const BAD = ['nul\u0000inside', '\u0000', 'lone high \ud800', 'lone low \udc00 here', '\udfff\ud800', 'end\ud83d'];

type DecodingClass = AnyConceptClass & { fromJSON(data: unknown): { update(patch: unknown): unknown; toJSON(): unknown } };

/** Each built-in concept with a valid document. */
const CONCEPTS: [DecodingClass, Record<string, unknown>][] = [
  [Case, edfFixture('case')],
  [Event, edfFixture('event')],
  [Identity, edfFixture('identity')],
  [Constant, edfFixture('constant')],
  [Info, edfFixture('info')],
  [AuthInfo, edfFixture('auth_info')],
  [PendingDownloadKey, edfFixture('pending_download_key')],
  [AnalyzerInfo, { name: 'yara', version: '1', tags: ['a'] }],
  [Identities, { identities: [{ username: 'a', groups: [] }] }],
];

/** Documents placing `bad` where field `field` keeps text (direct strings, list items, keys, nested strings). */
function badValues(field: AnyField, bad: string): unknown[] {
  switch (field.codec.kind) {
    case 'string':
      return [bad];
    case 'stringSet':
      return [['fine', bad]];
    case 'array': {
      const item = (field.codec as unknown as { item: AnyField }).item;
      return badValues(item, bad).map((value) => ['fine', value].slice(item.codec.kind === 'string' ? 0 : 1));
    }
    case 'record':
      return [{ [bad]: 1 }, ...badValues((field.codec as unknown as { item: AnyField }).item, bad).map((value) => ({ fine: value }))];
    case 'json':
      return [bad, { [bad]: 1 }, { nested: [1, { deep: bad }] }];
    case 'concept': {
      const cls = (field.codec as unknown as { cls: AnyConceptClass }).cls;
      const base = CONCEPTS.find(([known]) => known === cls)![1];
      return Object.entries(cls.fields).flatMap(([name, inner]) => badValues(inner, bad).map((value) => ({ ...base, [name]: value })));
    }
    default:
      return [];
  }
}

function refusal(run: () => unknown): ConceptError {
  let caught: unknown = null;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConceptError);
  return caught as ConceptError;
}

describe('bad characters in concept strings', () => {
  it('badTextProblem finds NUL and unpaired surrogates, and accepts paired ones', () => {
    expect(badTextProblem('emoji 😀 and accents é')).toBeNull();
    expect(badTextProblem('a\u0000b')).toBe('contains a NUL character (U+0000) at index 1: not allowed');
    expect(badTextProblem('x\ud800')).toBe('contains an unpaired surrogate (U+D800) at index 1: not valid Unicode');
    expect(badTextProblem('\udc00\ud83d\ude00')).toMatch(/U\+DC00\) at index 0/);
  });

  for (const [cls, document] of CONCEPTS) {
    const textFields = Object.entries(cls.fields).filter(([, field]) => badValues(field, 'x').length > 0);
    it(`${cls.conceptName}: the document is valid as given`, () => {
      expect(() => cls.fromJSON(document)).not.toThrow();
      expect(textFields.length).toBeGreaterThan(0);
    });
    for (const [name, field] of textFields) {
      it(`${cls.conceptName}.${name}: fromJSON and update refuse NUL and lone surrogates with a 400 naming the field`, () => {
        for (const bad of BAD) {
          for (const value of badValues(field, bad)) {
            const fromJson = refusal(() => cls.fromJSON({ ...document, [name]: value }));
            expect(fromJson.status).toBe(400);
            expect(fromJson.message.startsWith(`${cls.conceptName}.${name}`)).toBe(true);
            expect(fromJson.message).toMatch(/NUL character|unpaired surrogate/);
            if (field.flags.readonly) continue;
            const target = cls.fromJSON(document);
            const before = JSON.stringify(target.toJSON());
            const updated = refusal(() => target.update({ [name]: value }));
            expect(updated.message.startsWith(`${cls.conceptName}.${name}`)).toBe(true);
            expect(JSON.stringify(target.toJSON())).toBe(before);
          }
        }
      });
    }
  }
});
