// A real OpenID Connect provider for the federation tests: oidc-provider (npm, certified), with one confidential test
// client (client secret), optionally a second one that authenticates with private_key_jwt (RFC 7523; no secret, the
// public keys the tests generated as its jwks), test users, and its development login page. A small in-process test
// proxy in front of its token endpoint can rewrite the next ID tokens it issues into what the real provider never
// produces (wrong issuer, expired, tampered, signed by a foreign key, another nonce) or stall/fail the endpoint; tests
// switch it with POST /__test/mode.
// Usage: node oidc-provider.mjs <port> <client id> <client secret> <redirect uri>[,<redirect uri>...] [<keyed client file>]
// The keyed client file is JSON: {"client_id", "redirect_uris": [...], "jwks": {"keys": [public JWKs]}}; a key without
// a kid gets its RFC 7638 thumbprint as kid (computed here by jose, independently of the app's own computation).
import { readFile } from 'node:fs/promises';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const [port, clientId, clientSecret, redirectUris, keyedClientFile] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const kid = 'test-signing-key';

const signing = await jose.generateKeyPair('RS256', { extractable: true });
const foreign = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(signing.privateKey)), kid, alg: 'RS256', use: 'sig' };

async function keyedClient(file) {
  const client = JSON.parse(await readFile(file, 'utf8'));
  const keys = await Promise.all(client.jwks.keys.map(async (jwk) => ({ ...jwk, kid: jwk.kid ?? await jose.calculateJwkThumbprint(jwk) })));
  return {
    client_id: client.client_id,
    redirect_uris: client.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys },
  };
}

// Test users by subject; anyone else who signs in at the login page gets <login>@idp.example.test, verified.
const users = new Map();
let mode = 'none';

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris.split(','),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }, ...(keyedClientFile ? [await keyedClient(keyedClientFile)] : [])],
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['oidc-provider test cookie key'] },
  claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name'] },
  // The user's claims in the ID token itself (as Entra ID and Google put email there), not only at userinfo.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => {
      const user = users.get(sub) ?? { email: `${sub}@idp.example.test`, email_verified: true, name: `Test ${sub}` };
      return { sub, ...user };
    },
  }),
  // First-party test client: consent is implied, so the login page is the only interaction.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  ttl: { Session: 600, Interaction: 600, Grant: 600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600 },
});

// The login page signs in with a password: the ID token says so (RFC 8176 amr).
const interactionFinished = provider.interactionFinished.bind(provider);
provider.interactionFinished = (req, res, result, options) => {
  if (result?.login) {
    result.login.amr = ['pwd'];
  }
  return interactionFinished(req, res, result, options);
};

async function resign(idToken, change, key = signing.privateKey) {
  const claims = { ...jose.decodeJwt(idToken) };
  change(claims);
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
}

async function rewrite(idToken) {
  const now = Math.floor(Date.now() / 1000);
  switch (mode) {
    case 'wrong-issuer': return resign(idToken, (c) => { c.iss = 'http://127.0.0.1:1/not-this-provider'; });
    case 'expired': return resign(idToken, (c) => { c.iat = now - 7200; c.exp = now - 3600; });
    case 'stale-auth-time': return resign(idToken, (c) => { c.auth_time = now - 3600; });
    case 'no-auth-time': return resign(idToken, (c) => { delete c.auth_time; });
    case 'nonce-mismatch': return resign(idToken, (c) => { c.nonce = 'a-nonce-of-another-sign-in'; });
    case 'wrong-audience': return resign(idToken, (c) => { c.aud = 'another-client'; });
    case 'foreign-key': return resign(idToken, () => {}, foreign.privateKey);
    case 'tampered': {
      const [header, , signature] = idToken.split('.');
      const claims = { ...jose.decodeJwt(idToken), sub: 'someone-else', email: 'someone-else@idp.example.test' };
      return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    }
    default: return idToken;
  }
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/mode' && ctx.method === 'POST') {
    mode = new URL(ctx.href).searchParams.get('mode') ?? 'none';
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/__test/user' && ctx.method === 'POST') {
    const query = new URL(ctx.href).searchParams;
    users.set(query.get('sub'), { email: query.get('email'), email_verified: query.get('email_verified') === 'true', name: query.get('name') ?? undefined });
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/token' && mode === 'stall-token') {
    await new Promise((resolve) => { setTimeout(resolve, 60000); });
  }
  if (ctx.path === '/token' && mode === 'token-500') {
    ctx.status = 500;
    ctx.body = { error: 'server_error' };
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token && mode !== 'none') {
    ctx.body = { ...ctx.body, id_token: await rewrite(ctx.body.id_token) };
  }
});

provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`oidc-provider listening at ${issuer}\n`);
});
