/** Panels join the channel of their site by their handshake; a broadcast to the site reaches them and its RPC members (docs/tcp.md, channels.test.ts runs it). */
import type { FusionHost } from '../../../src/server/host.js';
import { FusionRpcAPI } from '../../../src/server/rpc/impl.js';
import { FusionTcpAPI } from '../../../src/server/tcp/impl.js';

/** Puts each panel (`HELLO <panel> <site>`) in channel `site/<site>`; RPC users may join those channels too. */
export function installSiteChannels(host: FusionHost): void {
  const gateway = host.findApi(FusionTcpAPI)!.gateway;
  host.findApi(FusionRpcAPI)!.channel('site/*');

  gateway.classify((first, connection) => {
    const hello = /^HELLO (\S+) (\S+)$/.exec(String(first));
    if (hello === null) return null;
    connection.identify(hello[1]!); // presence lists the panel under this name
    return 'panel';
  });

  gateway.onMessage('panel', async (frame, connection) => {
    if (!connection.isFirstMessage) return;
    const site = String(frame).split(' ')[2]!;
    await gateway.join(connection, `site/${site}`); // membership ends when the panel disconnects
    connection.send('OK');
  });

  // Panels read `<channel> <id> <data as JSON>` lines (the default would be one JSON object per line).
  gateway.encodeChannelMessage(({ channel, id, data }) => `${channel} ${id} ${JSON.stringify(data)}`);
}

/** Arms every panel of `site` on every instance (and tells its RPC members). */
export function armSite(host: FusionHost, site: string): Promise<number> {
  return host.findApi(FusionRpcAPI)!.broadcast(`site/${site}`, { command: 'ARM' });
}
