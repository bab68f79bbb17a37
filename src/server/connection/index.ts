/** The connection registry: live connections of every instance (leases), and delivery to them across instances. */
export { ConnectionRegistry, connectionChannelName } from './registry.js';
export type {
  ConnectionDeliveryHandler,
  ConnectionKind,
  ConnectionRecord,
  ConnectionRegistryOptions,
  ConnectionSelector,
  DeliverOptions,
  InstanceMessageHandler,
  NewConnection,
} from './registry.js';
export { CONNECTION_MESSAGE_TABLE, CONNECTION_MIGRATION, CONNECTION_TABLE } from './tables.js';
