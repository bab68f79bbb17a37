/**
 * oidc-provider's storage adapter over one in-process map shared by every test provider of a
 * test file, so that a provider rebuilt on the same issuer (key rotation, a restart on the same
 * port) still knows the grants and tokens of the previous one.
 */
/** Provider state (grants, sessions, codes, tokens). */
const stored = new Map<string, Record<string, unknown>>();
const grantMembers = new Map<string, Set<string>>();

/** The adapter oidc-provider builds per model (`adapter: (model) => new SharedMemoryAdapter(model)`). */
export class SharedMemoryAdapter {
  readonly #model: string;

  constructor(model: string) {
    this.#model = model;
  }

  async upsert(id: string, payload: Record<string, unknown>): Promise<void> {
    const key = `${this.#model}:${id}`;
    stored.set(key, payload);
    if (this.#model === 'Session' && typeof payload.uid === 'string') stored.set(`sessionUid:${payload.uid}`, { id });
    if (typeof payload.grantId === 'string') {
      const members = grantMembers.get(payload.grantId) ?? new Set<string>();
      members.add(key);
      grantMembers.set(payload.grantId, members);
    }
  }

  async find(id: string): Promise<Record<string, unknown> | undefined> {
    return stored.get(`${this.#model}:${id}`);
  }

  async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
    const entry = stored.get(`sessionUid:${uid}`);
    return typeof entry?.id === 'string' ? this.find(entry.id) : undefined;
  }

  async findByUserCode(): Promise<undefined> {
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const payload = stored.get(`${this.#model}:${id}`);
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    stored.delete(`${this.#model}:${id}`);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of grantMembers.get(grantId) ?? []) stored.delete(key);
    grantMembers.delete(grantId);
  }
}
