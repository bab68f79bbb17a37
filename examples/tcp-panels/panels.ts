/** Two kinds of alarm panels on one TCP listener, classified by their handshake; their messages become case events (SSE). */
import { defineService } from '../../src/server/service-module.js';
import type { FusionHost } from '../../src/server/host.js';
import type { FusionTcpConnection } from '../../src/server/tcp/connection.js';
import { FusionTcpAPI } from '../../src/server/tcp/impl.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Kind A speaks text: `A-HELLO <panel> <case_guid>`, then `ZONE <n> <state>`. */
const HELLO_A = /^A-HELLO (\S+) (\S+)$/;
const ZONE_A = /^ZONE (\d+) (OPEN|CLOSED|ALARM)$/;

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Registers the panel handshakes and handlers on the server's TCP gateway. */
export function installPanels(host: FusionHost): void {
  const gateway = host.findApi(FusionTcpAPI)?.gateway;
  if (gateway === undefined) throw new Error('the panels service needs a `tcp` section');
  const caseOf = new WeakMap<FusionTcpConnection, string>();

  async function report(connection: FusionTcpConnection, ext: Record<string, unknown>): Promise<boolean> {
    const caseObj = await host.loadCase(caseOf.get(connection)!);
    if (caseObj === null || host.eventNotifier === null) return false;
    await host.eventNotifier.notify('panel_message', caseObj, { panel: connection.identity, kind: connection.clientType, ...ext });
    return true;
  }

  gateway.classify((first, connection) => {
    const text = String(first);
    const a = HELLO_A.exec(text);
    // Kind B speaks JSON lines: {"model":"B","serial":"...","case":"<case_guid>"}, then {"event":"...","zone":n}
    const b = a ? null : parseJson(text);
    const guid = a ? a[2]! : b?.model === 'B' ? b.case : undefined;
    const panel = a ? a[1]! : b?.serial;
    if (typeof guid !== 'string' || !GUID.test(guid) || typeof panel !== 'string') return null;
    caseOf.set(connection, guid);
    connection.identify(panel);
    return a ? 'panel-a' : 'panel-b';
  });

  gateway.onMessage('panel-a', async (frame, connection) => {
    if (connection.isFirstMessage) return void connection.send('A-OK');
    const zone = ZONE_A.exec(String(frame));
    if (zone === null) return void connection.send('A-ERR unknown message');
    const stored = await report(connection, { zone: Number(zone[1]), state: zone[2] });
    connection.send(stored ? 'A-ACK' : 'A-ERR unknown case');
  });

  gateway.onMessage('panel-b', async (frame, connection) => {
    if (connection.isFirstMessage) return void connection.send(JSON.stringify({ ok: true }));
    const message = parseJson(String(frame));
    if (typeof message?.event !== 'string' || typeof message.zone !== 'number') return void connection.send(JSON.stringify({ ok: false, error: 'expected {event, zone}' }));
    const stored = await report(connection, { zone: message.zone, state: message.event });
    connection.send(JSON.stringify({ ok: stored }));
  });

  // Anything else (a bad handshake) ends the connection, with the reason in the log.
  gateway.onMessage((_frame, connection) => connection.close('unknown handshake'));
}

export default defineService({ setup: installPanels });
