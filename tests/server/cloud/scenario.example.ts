/** docs/cloud.md: Jane shares a directory with Mike; an anonymous caller gets nothing. */
import { FusionAuthAPIClient, FusionClient, FusionCloudAPIClient } from '../../../src/client/index.js';

/** What each caller could do, as the docs page lists it. */
export interface ScenarioOutcome {
  janeRole: string | null;
  mikeSees: string[];
  mikeRead: string;
  mikeWrite: number;
  mikeDelete: number;
  anonymousList: number;
}

async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    return (error as { status: number }).status;
  }
}

export async function janeSharesWithMike(baseUrl: string): Promise<ScenarioOutcome> {
  const connect = async (username?: string, password?: string) => {
    const client = new FusionClient({ baseUrl });
    if (username) await new FusionAuthAPIClient({ client }).login(username, password!);
    return { client, cloud: new FusionCloudAPIClient({ client }) };
  };
  const jane = await connect('jane', 'jane-password');
  const mike = await connect('mike', 'mike-password');
  const anonymous = await connect();
  try {
    // Jane creates /janes_dir: creator_role makes her its owner.
    await jane.cloud.createDirectory('/janes_dir');
    const { role: janeRole } = await jane.cloud.permissions('/janes_dir/notes.txt');
    // Her file inherits the ownership of the directory.
    await jane.cloud.upload(Buffer.from('meeting at noon'), '/janes_dir/notes.txt');
    // She lets Mike view the directory (and everything below it).
    await jane.cloud.assignRole('/janes_dir', { user: 'mike' }, 'viewer');

    const mikeSees = (await mike.cloud.list('/janes_dir')).map((entry) => entry.name);
    const file = await mike.client.requestRaw('GET', '/api/cloud/file/janes_dir/notes.txt');
    const mikeRead = await file.body.text();
    const mikeWrite = await statusOf(mike.cloud.upload(Buffer.from('hacked'), '/janes_dir/notes.txt', { overwrite: true }));
    const mikeDelete = await statusOf(mike.cloud.delete('/janes_dir/notes.txt'));
    const anonymousList = await statusOf(anonymous.cloud.list('/janes_dir'));
    return { janeRole, mikeSees, mikeRead, mikeWrite, mikeDelete, anonymousList };
  } finally {
    await Promise.all([jane.client.close(), mike.client.close(), anonymous.client.close()]);
  }
}
