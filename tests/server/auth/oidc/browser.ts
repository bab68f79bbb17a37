/**
 * A tiny "browser" for the authorization-code flow: undici requests, manual redirects, a cookie
 * jar honouring cookie paths, and the test provider's login and consent forms.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';

/** Cookies by name, with the path each was set for. */
export class CookieJar {
  readonly #cookies = new Map<string, { value: string; path: string }>();

  /** Stores the Set-Cookie headers of a response (one host only: domains are not tracked). */
  store(setCookie: string | string[] | undefined): void {
    for (const line of [setCookie ?? []].flat()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key = '', val = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = val || '/';
        if (key.toLowerCase() === 'max-age' && Number(val) <= 0) expired = true;
        if (key.toLowerCase() === 'expires' && Date.parse(val) < Date.now()) expired = true;
      }
      if (expired) this.#cookies.delete(name);
      else this.#cookies.set(name, { value, path });
    }
  }

  /** The Cookie header for a request to `url` (undefined when none applies). */
  header(url: URL): string | undefined {
    const pairs = [...this.#cookies].filter(([, c]) => url.pathname.startsWith(c.path)).map(([name, c]) => `${name}=${c.value}`);
    return pairs.length > 0 ? pairs.join('; ') : undefined;
  }
}

/** What the flow ends with: the parameters the provider sent to the redirect URI. */
export interface AuthorizationResult {
  code: string;
  state: string | null;
  iss: string | null;
  codeVerifier: string;
}

/** Options of authorizeInBrowser. */
export interface AuthorizeOptions {
  issuer: string;
  clientId: string;
  redirectUri: string;
  username: string;
  password: string;
  /** Send a PKCE challenge (default true). */
  pkce?: boolean;
  scope?: string;
  nonce?: string;
}

/**
 * Runs the authorization-code flow as a browser would: authorization request, login form,
 * consent form, and the final redirect to `redirectUri`, whose code it returns. Throws with
 * the page's text when the provider refuses (e.g. a wrong password).
 */
export async function authorizeInBrowser(options: AuthorizeOptions): Promise<AuthorizationResult> {
  const jar = new CookieJar();
  const codeVerifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const authorize = new URL('/auth', options.issuer);
  authorize.search = new URLSearchParams({
    client_id: options.clientId,
    response_type: 'code',
    redirect_uri: options.redirectUri,
    scope: options.scope ?? 'openid profile groups',
    state,
    ...(options.nonce ? { nonce: options.nonce } : {}),
    ...(options.pkce === false
      ? {}
      : { code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'), code_challenge_method: 'S256' }),
  }).toString();
  let url: URL = authorize;
  let method: 'GET' | 'POST' = 'GET';
  let body: string | undefined;
  for (let step = 0; step < 20; step++) {
    const cookie = jar.header(url);
    const response = await request(url, {
      method,
      body,
      headers: { ...(cookie ? { cookie } : {}), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    });
    jar.store(response.headers['set-cookie']);
    const text = await response.body.text();
    const location: string | string[] | undefined = response.headers.location;
    if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
      const next: URL = new URL(location, url);
      if (next.href.startsWith(options.redirectUri)) {
        const params = next.searchParams;
        const code = params.get('code');
        if (code === null) throw new Error(`the provider redirected without a code: ${next.search}`);
        return { code, state: params.get('state'), iss: params.get('iss'), codeVerifier };
      }
      [url, method, body] = [next, 'GET', undefined];
      continue;
    }
    const form = /<form data-prompt="(\w+)" method="post" action="([^"]+)">/.exec(text);
    if (response.statusCode !== 200 || form === null) throw new Error(`the provider answered ${response.statusCode}: ${text.slice(0, 300)}`);
    const prompt = form[1];
    url = new URL(form[2]!, url);
    method = 'POST';
    body = prompt === 'login' ? new URLSearchParams({ username: options.username, password: options.password }).toString() : '';
  }
  throw new Error('the authorization flow did not reach the redirect URI in 20 steps');
}
