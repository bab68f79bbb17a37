/**
 * The chat example's service module: `chat.send {to, message}` asks the recipient's client
 * (`chat.receive`, a reverse request, wherever the recipient is connected) and answers
 * `{delivered: true}` or `{delivered: false, reason: 'offline'}`; `chat.post {room, message}`
 * broadcasts on channel `chat/<room>`, which every logged-in user may join.
 * A real service imports from 'fusion-framework/server' instead of the sources.
 */
import { FusionRpcAPI, defineRpc, defineService } from '../../src/server/index.js';
import type { RpcCall } from '../../src/server/index.js';

let rpc: FusionRpcAPI | undefined;

const name = { type: 'string', minLength: 1, maxLength: 100 };
const text = { type: 'string', minLength: 1, maxLength: 4000 };

/** The chat methods, declared once; clients type themselves with `ChatRpc`. */
export const chatMethods = defineRpc({
  'chat.send': {
    input: { type: 'object', properties: { to: name, message: text }, required: ['to', 'message'], additionalProperties: false },
    handler: async ({ identity, params }: RpcCall<{ to: string; message: string }>) => {
      const answer = await rpc!.reverseRequest(params.to, 'chat.receive', { from: identity.username, message: params.message });
      if (typeof answer === 'object' && answer !== null && (answer as { delivered?: unknown }).delivered === false) return { delivered: false as const, reason: 'offline' as const };
      return { delivered: true as const };
    },
  },
  'chat.post': {
    input: { type: 'object', properties: { room: name, message: text }, required: ['room', 'message'], additionalProperties: false },
    handler: async ({ identity, params }: RpcCall<{ room: string; message: string }>) => ({
      id: await rpc!.broadcast(`chat/${params.room}`, { from: identity.username, message: params.message }),
    }),
  },
});

/** The type a client imports (`import type { ChatRpc } from '.../chat-service.js'`). */
export type ChatRpc = typeof chatMethods;

export default defineService({
  setup(host) {
    rpc = host.findApi(FusionRpcAPI);
    if (rpc === undefined) throw new Error('the chat example needs the rpc section in its config');
    rpc.register(chatMethods);
    rpc.channel('chat/*');
  },
});
