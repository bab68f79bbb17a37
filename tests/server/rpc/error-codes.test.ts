/**
 * Every 4xx a call fails with is a client-error JSON-RPC code, never -32603 internal: a thrown
 * FusionError of each FUSION_ERR_* code (and explicit statuses the table has no code for), with
 * its message and its FUSION_ERR_* code in error.data; 5xx stay -32603.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { FusionRpcError } from '../../../src/client/api/rpc.js';
import type { FusionRpcClient } from '../../../src/client/api/rpc.js';
import { FUSION_ERRORS, FusionError } from '../../../src/helper/errors.js';
import type { FusionErrorCode } from '../../../src/helper/errors.js';
import { describeStorage } from '../../helpers/storage.js';
import { WsProbe, serviceClient, silenceAudit, startRpcServer } from './helpers.js';
import type { RpcServer } from './helpers.js';

const SPECIFIC: Record<number, number> = { 401: -32001, 403: -32003, 404: -32004, 408: -32008, 409: -32009, 410: -32004, 429: -32029 };

/** The JSON-RPC code a 4xx status must give (RPC_CANCELLED, 499, has its own). */
function expectedCode(status: number, code: string): number {
  if (code === 'FUSION_ERR_RPC_CANCELLED') return -32010;
  return SPECIFIC[status] ?? -32602;
}

const CLIENT_ERRORS = (Object.entries(FUSION_ERRORS) as [FusionErrorCode, { status: number }][])
  .filter(([code, { status }]) => status >= 400 && status <= 499 && !code.startsWith('FUSION_ERR_RPC_') || code === 'FUSION_ERR_RPC_CANCELLED')
  .map(([code, { status }]) => [code, status] as const);

describeStorage('RPC error codes of HTTP statuses', (getStorage) => {
  silenceAudit();
  let t: RpcServer;
  let client: FusionRpcClient;

  beforeAll(async () => {
    t = await startRpcServer(getStorage(), {
      declare: (rpc) => {
        rpc.method('fail.with', {}, ({ params }: { params: { code: FusionErrorCode; status?: number } }) => {
          throw new FusionError(params.code, `failed with ${params.code}`, params.status === undefined ? undefined : { status: params.status });
        });
      },
    });
    client = await serviceClient(t);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await t?.close();
  });

  it('has 4xx codes to check, among them the ones once answered -32603 (405, 408, 414, 416, 431)', () => {
    expect(CLIENT_ERRORS.map(([, status]) => status)).toEqual(expect.arrayContaining([405, 408, 414, 416, 431]));
  });

  it('maps every 4xx FUSION_ERR_* code to its client-error code, keeping the message and the code in data', async () => {
    const wrong: string[] = [];
    for (const [code, status] of CLIENT_ERRORS) {
      const error = await client.call('fail.with', { code }).then(() => null, (e: unknown) => e);
      if (!(error instanceof FusionRpcError)) {
        wrong.push(`${code}: not a FusionRpcError: ${String(error)}`);
        continue;
      }
      const want = expectedCode(status, code);
      if (error.rpcCode !== want || error.code !== code || error.message !== `failed with ${code}`) {
        wrong.push(`${code} (${status}): got ${error.rpcCode} ${error.code} "${error.message}", want ${want}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it.each([
    [405, -32602],
    [410, -32004],
    [411, -32602],
    [418, -32602],
    [422, -32602],
    [431, -32602],
    [451, -32602],
    [500, -32603],
    [503, -32603],
  ])('maps an explicit status %i to %i on the wire', async (status, rpcCode) => {
    const p = await WsProbe.open(t.wsUrl, { 'x-fusion-api-token': t.apiKey });
    try {
      const answer = await p.call(3, 'fail.with', { code: 'FUSION_ERR_VALIDATION', status });
      expect(answer.error).toEqual({ code: rpcCode, message: 'failed with FUSION_ERR_VALIDATION', data: { code: 'FUSION_ERR_VALIDATION' } });
    } finally {
      await p.close();
    }
  });

  it('answers a 5xx FusionError of FUSION_ERR_INTERNAL with no internal text', async () => {
    const error = (await client.call('fail.with', { code: 'FUSION_ERR_INTERNAL' }).catch((e: unknown) => e)) as FusionRpcError;
    expect(error.rpcCode).toBe(-32603);
    expect(error.message).toBe('internal error');
  });
});
