/**
 * The framework's own series besides requests, read when scraped: open SSE connections and
 * open RPC connections of this instance (the event and RPC APIs), and the webhook tables shared by every instance (deliveries by
 * status, `pending` being the backlog; disabled endpoints). The webhook attempt counter is
 * kept by the dispatcher itself (delivery-telemetry.ts).
 */
import { FusionEventAPI } from '../event/impl.js';
import { DELIVERY_TABLE, ENDPOINT_TABLE } from '../event/webhook/delivery-rows.js';
import type { DeliveryStatus } from '../event/webhook/delivery-rows.js';
import type { FusionHost } from '../host.js';
import { FusionRpcAPI } from '../rpc/impl.js';
import type { FusionMetrics } from './registry.js';

const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed', 'disabled'];

/** Registers the series of the APIs mounted on `host`: RPC connections, SSE and webhook series. */
export function registerFrameworkSeries(metrics: FusionMetrics, host: FusionHost): void {
  registerRpcSeries(metrics, host);
  registerEventSeries(metrics, host);
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
