/** A bare HTTP server answering edf_fusion fixtures in the envelope, for the API-client tests. */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Serves `routes` (path -> data, wrapped in the envelope); 404 envelope otherwise. */
export async function fixtureServer(routes: Record<string, unknown>): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const known = Object.hasOwn(routes, req.url ?? '');
    const body = known ? { status: 200, data: routes[req.url ?? ''] } : { status: 404, message: 'not found' };
    res.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads a fixture produced by edf_fusion (copied from shared/fixtures/edf_fusion into tests/fixtures/edf_fusion). */
export async function edfFixture(name: string): Promise<unknown> {
  const url = new URL(`../../fixtures/edf_fusion/${name}.json`, import.meta.url);
  return JSON.parse(await readFile(url, 'utf8')) as unknown;
}
