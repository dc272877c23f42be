// A real OpenID provider for the single sign-on tests: the certified `oidc-provider` package,
// on 127.0.0.1 (an ephemeral port), with two confidential clients (`statuspage` signs ID
// tokens with RS256, `statuspage-es` with ES256), PKCE required, and the claims in the ID token.
//
// The tests drive it through /test/* (never part of a real provider):
//   POST /test/next-login {sub, email, email_verified, name, groups}  who signs in next
//   POST /test/deny                     the next sign-in is refused (access_denied)
//   POST /test/mutate {kind}            the next ID token is "tampered" (payload changed, old
//                                       signature), or re-signed with a wrong "audience", or "expired"
//   POST /test/rotate                   the provider moves to a new RSA key (published alongside the old)
//   GET  /test/stats                    how often its keys were fetched
// It prints {"issuer": "http://127.0.0.1:<port>"} once it listens.
import http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const redirectUri = process.env.REDIRECT_URI;
if (!redirectUri) throw new Error('REDIRECT_URI is required');

const jwk = async (pair, kid, alg) => ({ ...(await jose.exportJWK(pair.privateKey)), kid, alg, use: 'sig' });
const rsa1 = await jose.generateKeyPair('RS256', { extractable: true });
const rsa2 = await jose.generateKeyPair('RS256', { extractable: true });
const ec = await jose.generateKeyPair('ES256', { extractable: true });
const keys = { rsa1: await jwk(rsa1, 'rsa-1', 'RS256'), rsa2: await jwk(rsa2, 'rsa-2', 'RS256'), ec: await jwk(ec, 'ec-1', 'ES256') };
const publicOf = ({ d, p, q, dp, dq, qi, ...rest }) => rest;

const state = { accounts: {}, next: null, deny: false, mutation: null, rotated: false, jwksFetches: 0 };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const client = (id, alg) => ({
  client_id: id,
  client_secret: 'sp-secret',
  redirect_uris: [redirectUri],
  response_types: ['code'],
  grant_types: ['authorization_code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: alg,
});

const provider = new Provider(issuer, {
  clients: [client('statuspage', 'RS256'), client('statuspage-es', 'ES256')],
  jwks: { keys: [keys.rsa1, keys.ec] },
  findAccount: async (ctx, sub) =>
    state.accounts[sub] && { accountId: sub, claims: async () => ({ sub, ...state.accounts[sub] }) },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  cookies: { keys: ['test-cookie-key'] },
});

// Test hooks around the real endpoints: key rotation and forged ID tokens.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/jwks') {
    state.jwksFetches += 1;
    if (state.rotated) ctx.body = { keys: [keys.rsa1, keys.rsa2, keys.ec].map(publicOf) };
  }
  if (ctx.path === '/token' && ctx.body?.id_token && (state.mutation || state.rotated)) {
    const [header, payload, signature] = ctx.body.id_token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const protectedHeader = JSON.parse(Buffer.from(header, 'base64url').toString());
    const mutation = state.mutation;
    state.mutation = null;
    if (mutation === 'tampered') {
      claims.email = 'mallory@evil.test';
      const forged = Buffer.from(JSON.stringify(claims)).toString('base64url');
      ctx.body = { ...ctx.body, id_token: `${header}.${forged}.${signature}` };
      return;
    }
    if (mutation === 'audience') claims.aud = 'someone-else';
    if (mutation === 'expired') {
      claims.iat -= 7200;
      claims.exp = Math.floor(Date.now() / 1000) - 3600;
    }
    let key = protectedHeader.alg === 'ES256' ? ec.privateKey : rsa1.privateKey;
    let kid = protectedHeader.kid;
    if (state.rotated && protectedHeader.alg === 'RS256') [key, kid] = [rsa2.privateKey, 'rsa-2'];
    const signed = await new jose.CompactSign(Buffer.from(JSON.stringify(claims)))
      .setProtectedHeader({ alg: protectedHeader.alg, kid, typ: protectedHeader.typ })
      .sign(key);
    ctx.body = { ...ctx.body, id_token: signed };
  }
});

const readJson = async (req) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body ? JSON.parse(body) : {};
};

const reply = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const callback = provider.callback();
server.on('request', async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/test/next-login') {
      const account = await readJson(req);
      const { sub, ...claims } = account;
      state.accounts[sub] = claims;
      state.next = sub;
      return reply(res, 200, { ok: true });
    }
    if (url.pathname === '/test/deny') {
      state.deny = true;
      return reply(res, 200, { ok: true });
    }
    if (url.pathname === '/test/mutate') {
      state.mutation = (await readJson(req)).kind;
      return reply(res, 200, { ok: true });
    }
    if (url.pathname === '/test/rotate') {
      state.rotated = true;
      return reply(res, 200, { ok: true });
    }
    if (url.pathname === '/test/stats') return reply(res, 200, { jwks_fetches: state.jwksFetches });
    if (url.pathname.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(req, res);
      if (state.deny) {
        state.deny = false;
        const refused = { error: 'access_denied', error_description: 'The person declined to sign in' };
        return provider.interactionFinished(req, res, refused, { mergeWithLastSubmission: false });
      }
      if (details.prompt.name === 'login') {
        return provider.interactionFinished(req, res, { login: { accountId: state.next } }, { mergeWithLastSubmission: false });
      }
      const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      grant.addOIDCClaims(['email', 'email_verified', 'name', 'groups']);
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    return callback(req, res);
  } catch (error) {
    reply(res, 500, { error: String(error) });
  }
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
