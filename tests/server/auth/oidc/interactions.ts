/** The test provider's login and consent pages (instead of oidc-provider's devInteractions: passwords are checked). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';

/** The login and consent pages: GET renders a form, POST .../login checks a password, POST .../confirm grants. */
export async function interaction(provider: Provider, users: readonly { username: string; password: string }[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt } = details;
  if (req.method === 'GET') {
    const action = prompt.name === 'login' ? 'login' : 'confirm';
    const fields = prompt.name === 'login' ? '<input name="username"><input name="password" type="password">' : '';
    res.setHeader('content-type', 'text/html');
    res.end(`<form data-prompt="${prompt.name}" method="post" action="/interaction/${uid}/${action}">${fields}</form>`);
    return;
  }
  const body = new URLSearchParams(await readBody(req));
  if (req.url?.endsWith('/login') && prompt.name === 'login') {
    const user = users.find((u) => u.username === body.get('username'));
    if (user === undefined || user.password !== body.get('password')) {
      res.statusCode = 401;
      res.setHeader('content-type', 'text/html');
      res.end('<p data-error="credentials">wrong username or password</p>');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: user.username } }, { mergeWithLastSubmission: false });
    return;
  }
  if (req.url?.endsWith('/confirm') && prompt.name === 'consent') {
    const accountId = details.session?.accountId;
    const clientId = String(details.params.client_id);
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: accountId!, clientId });
    const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant!.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant!.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant!.addResourceScope(resource, scopes.join(' '));
    await provider.interactionFinished(req, res, { consent: { grantId: await grant!.save() } }, { mergeWithLastSubmission: true });
    return;
  }
  res.statusCode = 400;
  res.end(`unexpected ${req.method} ${req.url} for prompt ${prompt.name}`);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}
