import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { FusionError } from '../../src/helper/errors.js';
import { createLogger, setRootLogger } from '../../src/helper/logging.js';
import { setAuditSink, traceUserOp } from '../../src/helper/tracing.js';
import { expectDocumentedExample } from './docs-example.js';

/** A real pino logger writing to a stream that keeps the parsed lines. */
function capturingLogger(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ stream, level: 'info' }) };
}

const alice = { username: 'alice', groups: ['soc', 'analysts'] };
let root: ReturnType<typeof capturingLogger>;

beforeEach(() => {
  root = capturingLogger();
  setRootLogger(root.logger);
});

afterEach(() => {
  setAuditSink(undefined);
  setRootLogger(undefined);
});

describe('traceUserOp', () => {
  it('writes one info line through logger "audit" when granted', () => {
    traceUserOp(alice, 'update_case', { granted: true, context: { caseGuid: 'c0ffee' } });
    expect(root.lines).toHaveLength(1);
    expect(root.lines[0]).toMatchObject({
      level: 30,
      module: 'audit',
      msg: 'granted update_case to alice',
      user: 'alice',
      groups: ['analysts', 'soc'],
      operation: 'update_case',
      granted: true,
      context: { caseGuid: 'c0ffee' },
    });
  });

  it('writes one warn line when refused, and throws the given error', () => {
    const error = new FusionError('FUSION_ERR_FORBIDDEN', 'alice may not delete this case');
    expect(() => traceUserOp(alice, 'delete_case', { granted: false, context: { caseGuid: 'c0ffee' }, error })).toThrow(error);
    expect(root.lines).toHaveLength(1);
    expect(root.lines[0]).toMatchObject({ level: 40, msg: 'refused delete_case to alice', granted: false, user: 'alice' });
  });

  it('calls an error factory only when refused', () => {
    let made = 0;
    const factory = () => {
      made++;
      return new FusionError('FUSION_ERR_FORBIDDEN', 'no');
    };
    traceUserOp(alice, 'get_case', { granted: true, error: factory });
    expect(made).toBe(0);
    expect(() => traceUserOp(alice, 'get_case', { granted: false, error: factory })).toThrow(FusionError);
    expect(made).toBe(1);
    expect(root.lines.map((l) => l.granted)).toEqual([true, false]);
  });

  it('does not throw when refused without an error', () => {
    expect(() => traceUserOp(alice, 'enumerate_cases', { granted: false })).not.toThrow();
    expect(root.lines).toHaveLength(1);
  });

  it('traces anonymous requests with user null and serializes context through toJSON', () => {
    const concept = { toJSON: () => ({ guid: 'c0ffee', name: 'case' }) };
    traceUserOp(null, 'is_logged', { granted: false, context: { case: concept } });
    expect(root.lines[0]).toMatchObject({ user: null, groups: [], context: { case: { guid: 'c0ffee', name: 'case' } } });
    expect(root.lines[0]!.msg).toBe('refused is_logged to anonymous');
  });

  it('goes to the sink set by setAuditSink, or to a logger passed in the call', () => {
    const dedicated = capturingLogger();
    setAuditSink(dedicated.logger);
    traceUserOp(alice, 'login', { granted: true });
    const other = capturingLogger();
    traceUserOp(alice, 'logout', { granted: true, logger: other.logger });
    setAuditSink(undefined);
    traceUserOp(alice, 'whoami', { granted: true });
    expect(dedicated.lines.map((l) => l.operation)).toEqual(['login']);
    expect(other.lines.map((l) => l.operation)).toEqual(['logout']);
    expect(root.lines.map((l) => l.operation)).toEqual(['whoami']);
  });

  it('types a refusal with an error as never returning', () => {
    const check = (allowed: boolean): string => {
      if (allowed) return 'ok';
      traceUserOp(alice, 'x', { granted: false, error: new Error('refused') });
    };
    expect(check(true)).toBe('ok');
    expect(() => check(false)).toThrow('refused');
  });
});

describe('docs example (docs/helpers.md, tracing)', () => {
  it('runs', () => {
    const identity = { username: 'bob', groups: ['soc'] };
    const caseAcs = ['soc'];
    // --- example starts
    const allowed = caseAcs.length === 0 || [identity.username, ...identity.groups].some((x) => caseAcs.includes(x));
    traceUserOp(identity, 'update_case', {
      granted: allowed,
      context: { caseGuid: '0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d' },
      error: () => new FusionError('FUSION_ERR_FORBIDDEN', 'bob may not update this case'),
    });
    // --- example ends
    expect(root.lines[0]).toMatchObject({ user: 'bob', granted: true, operation: 'update_case' });
  });

  it('is the one docs/helpers.md shows', () => {
    expectDocumentedExample('tests/helper/tracing.test.ts', 'tracing');
  });
});
