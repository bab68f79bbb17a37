/** Params and results on the wire: as they are with the `json` codec, superjson-encoded with `superjson`. */
import { fusionSerializer } from '../../concept/index.js';
import type { RpcCodecName } from './define.js';

/** Encodes an outgoing value for `codec`. */
export function encodeValue(codec: RpcCodecName, value: unknown): unknown {
  if (codec !== 'superjson' || value === undefined) return value;
  return fusionSerializer.serialize(value);
}

/** Decodes an incoming value for `codec` (a superjson value is an object with a `json` key; anything else passes). */
export function decodeValue(codec: RpcCodecName, value: unknown): unknown {
  if (codec !== 'superjson' || typeof value !== 'object' || value === null || !('json' in value)) return value;
  return fusionSerializer.deserialize(value as Parameters<typeof fusionSerializer.deserialize>[0]);
}
