/** A one-cookie jar: keeps the session cookie the server sets, sends it back on every request. */

/** Holds the value of one named cookie (the server's session cookie). */
export class SessionCookieJar {
  readonly #name: string;
  #value: string | null = null;
  #expiresAt = Infinity;

  constructor(name: string) {
    this.#name = name;
  }

  /** The `Cookie` header value to send, or undefined when there is no live cookie. */
  header(now = Date.now()): string | undefined {
    if (this.#value === null) return undefined;
    if (now >= this.#expiresAt) {
      this.clear();
      return undefined;
    }
    return `${this.#name}=${this.#value}`;
  }

  /** The current cookie value, or null. */
  get value(): string | null {
    return this.#value;
  }

  /** Forgets the cookie. */
  clear(): void {
    this.#value = null;
    this.#expiresAt = Infinity;
  }

  /** Reads the `Set-Cookie` header(s) of a response; keeps, renews or drops our cookie. */
  update(setCookie: string | string[] | undefined, now = Date.now()): void {
    if (setCookie === undefined) return;
    for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) this.#apply(line, now);
  }

  #apply(line: string, now: number): void {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== this.#name) return;
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    let expiresAt = Infinity;
    for (const attribute of attributes) {
      const [rawKey = '', ...rest] = attribute.split('=');
      const key = rawKey.trim().toLowerCase();
      const attributeValue = rest.join('=').trim();
      if (key === 'max-age') {
        const seconds = Number(attributeValue);
        if (Number.isFinite(seconds)) expiresAt = seconds <= 0 ? -Infinity : now + seconds * 1000;
      } else if (key === 'expires' && expiresAt === Infinity) {
        const when = Date.parse(attributeValue);
        if (!Number.isNaN(when)) expiresAt = when;
      }
    }
    if (value === '' || expiresAt <= now) {
      this.clear();
      return;
    }
    this.#value = value;
    this.#expiresAt = expiresAt;
  }
}
