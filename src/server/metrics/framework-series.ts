/**
 * The framework's own series besides requests, read when scraped: open SSE connections, open
 * RPC connections and open TCP connections by listener of this instance (the event, RPC and
 * TCP APIs), and the webhook tables shared by every instance (deliveries by
 * status, `pending` being the backlog; disabled endpoints). The webhook attempt counter is
 * kept by the dispatcher itself (delivery-telemetry.ts).
 */
import { FusionEventAPI } from '../event/impl.js';
import { DELIVERY_TABLE, ENDPOINT_TABLE } from '../event/webhook/delivery-rows.js';
import type { DeliveryStatus } from '../event/webhook/delivery-rows.js';
import type { FusionHost } from '../host.js';
import { FusionRpcAPI } from '../rpc/impl.js';
import { FusionTcpAPI } from '../tcp/impl.js';
import type { FusionMetrics } from './registry.js';

const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed', 'disabled'];

/** Registers the series of the APIs mounted on `host`: RPC and TCP connections, SSE and webhook series. */
export function registerFrameworkSeries(metrics: FusionMetrics, host: FusionHost): void {
  registerRpcSeries(metrics, host);
  registerTcpSeries(metrics, host);
  registerEventSeries(metrics, host);
}

function registerTcpSeries(metrics: FusionMetrics, host: FusionHost): void {
  const tcp = host.findApi(FusionTcpAPI);
  if (tcp === undefined) return;
  metrics.gauge<'listener'>({
    name: 'fusion_tcp_connections',
    help: 'Open TCP gateway connections on this instance, by listener',
    labelNames: ['listener'],
    collect: (gauge) => {
      const counts = new Map<string, number>(tcp.listeners.map((listener) => [listener.options.name, 0]));
      for (const connection of tcp.gateway.connections.values()) counts.set(connection.listener, (counts.get(connection.listener) ?? 0) + 1);
      gauge.reset();
      for (const [listener, count] of counts) gauge.set({ listener }, count);
    },
  });
}

function registerRpcSeries(metrics: FusionMetrics, host: FusionHost): void {
  const rpc = host.findApi(FusionRpcAPI);
  if (rpc === undefined) return;
  metrics.gauge({
    name: 'fusion_rpc_connections',
    help: 'Open JSON-RPC WebSocket connections on this instance',
    collect: (gauge) => gauge.set(rpc.connectionCount),
  });
}

function registerEventSeries(metrics: FusionMetrics, host: FusionHost): void {
  const events = host.findApi(FusionEventAPI);
  if (events === undefined) return;
  metrics.gauge({
    name: 'fusion_sse_connections',
    help: 'Open Server-Sent Events streams on this instance',
    collect: (gauge) => gauge.set(events.streamCount),
  });
  metrics.gauge<'status'>({
    name: 'fusion_webhook_deliveries',
    help: 'Webhook delivery rows by status, all instances (pending = backlog; finished rows are pruned after event.webhook_retention)',
    labelNames: ['status'],
    collect: async (gauge) => {
      if (!host.hasStorage) return;
      const rows = await host.storage.knex(DELIVERY_TABLE).select('status').count<{ status: string; count: string | number }[]>('* as count').groupBy('status');
      const counts = new Map(rows.map((row) => [row.status, Number(row.count)]));
      for (const status of DELIVERY_STATUSES) gauge.set({ status }, counts.get(status) ?? 0);
    },
  });
  metrics.gauge({
    name: 'fusion_webhook_disabled_endpoints',
    help: 'Webhook endpoints disabled by a 410 Gone or a deadline of failures, all instances',
    collect: async (gauge) => {
      if (!host.hasStorage) return;
      const [row] = await host.storage.knex(ENDPOINT_TABLE).whereNotNull('disabled_at').count<{ count: string | number }[]>('* as count');
      gauge.set(Number(row?.count ?? 0));
    },
  });
}
