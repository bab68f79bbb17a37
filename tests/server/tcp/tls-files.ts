/** Test support: a throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files of a test PKI, and their directory (remove it with `cleanup`). */
export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Paths of the same files. */
  paths: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string };
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** Makes the PKI with the `openssl` command (throws when it is missing). */
export function makeTestPki(clientName = 'panel-7'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'fusion-tcp-tls-'));
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=fusion test CA']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, cn, ext] of [['server', 'localhost', ['-extfile', 'server.ext']], ['client', clientName, []]] as const) {
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...ext]);
  }
  const path = (file: string): string => join(dir, file);
  const read = (file: string): string => readFileSync(path(file), 'utf8');
  return {
    dir,
    caCert: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    paths: { ca: path('ca.crt'), serverCert: path('server.crt'), serverKey: path('server.key'), clientCert: path('client.crt'), clientKey: path('client.key') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
