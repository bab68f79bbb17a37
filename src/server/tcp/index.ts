/** The TCP gateway: framed TCP/TLS listeners, classification by first message, hooks. */
export { FusionTcpAPI } from './impl.js';
export type { FusionTcpAPIOptions } from './impl.js';
export { FusionTcpGateway } from './gateway.js';
export type { FusionTcpGatewayOptions, TcpClassifier, TcpConnectHandler, TcpConnectionRegistry, TcpDisconnectHandler, TcpListener, TcpMessageHandler, TcpTarget } from './gateway.js';
export { FusionTcpConnection } from './connection.js';
export type { TcpPeerCertificate } from './connection.js';
export { TCP_LISTENER_DEFAULTS } from './listener-options.js';
export type { TcpListenerOptions } from './listener-options.js';
export { readTcpConfig } from './config.js';
export type { FusionTcpConfig, NamedCustomFraming, TcpListenerConfig } from './config.js';
