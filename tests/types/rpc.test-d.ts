/**
 * Type-level tests of defineRpc and FusionRpcClient, checked by `tsc` (jest does not run this
 * file): every `@ts-expect-error` line must fail to compile, everything else must compile.
 */
import type { FusionRpcClient } from '../../src/client/api/rpc.js';
import { defineRpc } from '../../src/server/rpc/define.js';
import type { RpcCall } from '../../src/server/rpc/define.js';

/** Compiles only when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_value?: T): void {}

// The service declares its methods once...
const _methods = defineRpc({
  'chat.send': {
    handler: async ({ params }: RpcCall<{ to: string; message: string }>) => ({ delivered: params.to.length > 0 }),
  },
  'math.add': { handler: ({ params }: RpcCall<{ a: number; b: number }>) => params.a + params.b },
  'feed.follow': {
    handler: async function* ({ params }: RpcCall<{ topic: string }>): AsyncGenerator<{ headline: string }, number> {
      yield { headline: params.topic };
      return 1;
    },
  },
});
/** ...and exports its type; clients `import type` it. */
type ChatRpc = typeof _methods;

async function typedClient(client: FusionRpcClient<ChatRpc>): Promise<void> {
  const _sent = await client.call('chat.send', { to: 'bob', message: 'hi' });
  assertType<Equal<typeof _sent, { delivered: boolean }>>();
  const _sum = await client.call('math.add', { a: 1, b: 2 });
  assertType<Equal<typeof _sum, number>>();
  // @ts-expect-error unknown method name
  await client.call('chat.sned', { to: 'bob', message: 'hi' });
  // @ts-expect-error wrong param type
  await client.call('math.add', { a: '1', b: 2 });
  // @ts-expect-error missing param
  await client.call('chat.send', { to: 'bob' });
  // @ts-expect-error the result is not a string
  const wrong: string = await client.call('math.add', { a: 1, b: 2 });
  void wrong;
  const stream = client.stream('feed.follow', { topic: 'news' });
  for await (const _item of stream) assertType<Equal<typeof _item, { headline: string }>>();
  assertType<Equal<Awaited<typeof stream.result>, number>>();
  // @ts-expect-error wrong stream params
  client.stream('feed.follow', { topic: 3 });
}

async function untypedClient(client: FusionRpcClient): Promise<void> {
  const _anything = await client.call('whatever.method', { any: 'params' });
  assertType<Equal<typeof _anything, unknown>>();
}

void typedClient;
void untypedClient;
