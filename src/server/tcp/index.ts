/** The TCP gateway: framed TCP/TLS listeners, classification by first message, hooks, channel membership. */
export { FusionTcpAPI } from './impl.js';
export type { FusionTcpAPIOptions } from './impl.js';
export { FusionTcpGateway } from './gateway.js';
export type { FusionTcpGatewayOptions, TcpConnectHandler, TcpDisconnectHandler } from './gateway.js';
export type { TcpClassifier, TcpMessageHandler } from './router.js';
export type { TcpListener } from './listener.js';
export type { TcpConnectionRegistry, TcpTarget } from './registry-link.js';
export { encodeChannelMessageAsJson } from './channels.js';
export type { TcpChannelEncoder, TcpChannelHub, TcpChannelMessage, TcpJoinResult } from './channels.js';
export { FusionTcpConnection } from './connection.js';
export type { TcpPeerCertificate } from './connection.js';
export { TCP_LISTENER_DEFAULTS } from './listener-options.js';
export type { TcpListenerOptions } from './listener-options.js';
export { readTcpConfig } from './config.js';
export type { FusionTcpConfig, NamedCustomFraming, TcpListenerConfig } from './config.js';
