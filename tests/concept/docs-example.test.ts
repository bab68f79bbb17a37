/**
 * The example of docs/concepts.md, run as a test. The code between the markers must stay
 * identical to the doc's example block (the last test checks it).
 */
import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Case, ConceptError, Identity, defineConcept, field, fusionSerializer, registerConcept } from '../../src/concept/index.js';
import { utcNow } from '../../src/helper/datetime.js';

// --- example start ---
const Priority = { LOW: 'low', HIGH: 'high' } as const;

/** A concept of your own: every field is declared once. */
class Ticket extends defineConcept('Ticket', {
  id: field.uuid().readonly().default(() => randomUUID()),
  title: field.string({ minLength: 1 }),
  priority: field.enumOf(Priority).default('low'),
  opened: field.datetime().readonly().default(utcNow),
  tags: field.stringSet().default([]),
  assignee: field.concept(Identity).optional(),
}) {
  escalate(): this {
    return this.update({ priority: 'high' });
  }
}

/** A built-in, extended: keeps Case's fields and rules, adds two fields. */
class TimelineCase extends Case.extend('TimelineCase', {
  color: field.string().default('red'),
  owner: field.concept(Identity).optional(),
}) {}
registerConcept(TimelineCase);

const ticket = new Ticket({ title: 'Rotate keys', tags: ['sec', 'ops', 'sec'] });
const wire = ticket.toJSON(); // { id, title, priority: 'low', opened: '…+00:00', tags: ['ops', 'sec'], assignee: null }
const again = Ticket.fromJSON(JSON.parse(JSON.stringify(ticket)));
const same = again.equals(ticket); // true
again.escalate();

let message = '';
try {
  Ticket.fromJSON({ title: 'x', assignee: { username: 42 } });
} catch (error) {
  if (error instanceof ConceptError) message = error.message; // 'Ticket.assignee.username: expected string, got 42'
}

const timeline = TimelineCase.fromJSON({ name: 'Phishing wave', acs: ['soc'], color: 'blue' });
timeline.update({ description: 'triaged' }); // validates everything first, then sets updated = now
const frame = fusionSerializer.stringify({ cases: new Map([[timeline.guid, timeline]]) });
const decoded = fusionSerializer.parse<{ cases: Map<string, TimelineCase> }>(frame);
const restored = decoded.cases.get(timeline.guid); // a TimelineCase, equal to timeline

const bodySchema = Ticket.jsonSchema({ mode: 'input' }); // for a fastify route: only title is required
// --- example end ---

describe('docs/concepts.md example', () => {
  it('declares, validates and serializes as the doc says', () => {
    expect(wire).toMatchObject({ title: 'Rotate keys', priority: 'low', tags: ['ops', 'sec'], assignee: null });
    expect(wire.opened).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(same).toBe(true);
    expect(again.priority).toBe('high');
    expect(message).toBe('Ticket.assignee.username: expected string, got 42');
    expect(timeline.description).toBe('triaged');
    expect(timeline.updated).toBeInstanceOf(Date);
    expect(restored).toBeInstanceOf(TimelineCase);
    expect(restored!.equals(timeline)).toBe(true);
    expect(bodySchema.required).toEqual(['title']);
  });

  it('is the same code as the example in docs/concepts.md', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const doc = readFileSync(join(here, '..', '..', 'docs', 'concepts.md'), 'utf8');
    const source = readFileSync(join(here, 'docs-example.test.ts'), 'utf8');
    const example = source.split('// --- example start ---\n')[1]!.split('// --- example end ---\n')[0]!;
    const block = doc.split('<!-- example: tests/concept/docs-example.test.ts -->\n```ts\n')[1]?.split('```')[0];
    expect(block).toBe(example);
  });
});
