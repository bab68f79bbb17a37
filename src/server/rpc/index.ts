/** The RPC API: JSON-RPC 2.0 over WebSocket (methods, streams, reverse requests, channels with replay). */
export { FusionRpcAPI } from './impl.js';
export type { FusionRpcAPIOptions, ReverseRequestOptions, ReverseAnswer, ReverseOffline, RpcChannelOptions } from './impl.js';
export { RPC_DEFAULTS, readRpcConfig } from './config.js';
export type { FusionRpcConfig } from './config.js';
export { defineRpc } from './define.js';
export type { RpcCall, RpcConnectionInfo, RpcCodecName, RpcDefinitions, RpcHandler, RpcMethodDefinition, RpcMethodOptions, RpcParamsClass, RpcParamsOf, RpcResultOf, RpcItemOf } from './define.js';
export type { RpcHooks, RpcFrame } from './connection.js';
export { RpcError, RPC_CODES, RPC_PROTOCOL, CLOSE_CODES } from './protocol.js';
export type { RpcErrorObject } from './protocol.js';
export { CHANNEL_TABLE, CHANNEL_MESSAGE_TABLE, CHANNEL_MEMBER_TABLE, TICKET_TABLE, RPC_MIGRATION } from './tables.js';
