// openid-client 5 (the release NextAuth v4 uses; installed as the npm
// alias openid-client-5) as a confidential relying party with its default
// settings: no id_token_signed_response_alg given, so it expects RS256.
// Discovery, code + PKCE through the hosted sign-in page, the ID token
// checked against jwks_uri, userinfo, refresh, RFC 7662 introspection,
// RFC 7009 revocation of the access token, and RP-initiated logout with
// the ID token as id_token_hint.
//
// Needs GATEHOUSE_OIDC_ISSUER, GATEHOUSE_OIDC_REDIRECT_URI,
// GATEHOUSE_OIDC_USERNAME, GATEHOUSE_OIDC_PASSWORD,
// GATEHOUSE_OIDC_CONF_ID, GATEHOUSE_OIDC_CONF_SECRET and
// GATEHOUSE_OIDC_LOGOUT_URI (test/nodecompat's TestNodeOIDC sets them);
// skipped without them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Issuer, generators } from 'openid-client-5';
import { browser, signInAndAuthorize } from './lib/hosted.mjs';

const env = process.env;
const issuerURL = env.GATEHOUSE_OIDC_ISSUER;
const skip = issuerURL && env.GATEHOUSE_OIDC_CONF_ID ? false : 'GATEHOUSE_OIDC_ISSUER / GATEHOUSE_OIDC_CONF_ID not set';

test('openid-client 5 with defaults: RS256 ID token, userinfo, refresh, introspection, revocation, logout', { skip }, async () => {
  const issuer = await Issuer.discover(issuerURL);
  assert.equal(issuer.metadata.issuer, issuerURL);
  assert.equal(issuer.metadata.id_token_signing_alg_values_supported[0], 'RS256');
  const client = new issuer.Client({
    client_id: env.GATEHOUSE_OIDC_CONF_ID,
    client_secret: env.GATEHOUSE_OIDC_CONF_SECRET,
    redirect_uris: [env.GATEHOUSE_OIDC_REDIRECT_URI],
    post_logout_redirect_uris: [env.GATEHOUSE_OIDC_LOGOUT_URI],
    response_types: ['code'],
  });
  const code_verifier = generators.codeVerifier();
  const nonce = generators.nonce();
  const state = generators.state();
  const authURL = client.authorizationUrl({
    scope: 'openid email profile offline_access',
    code_challenge: generators.codeChallenge(code_verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  const get = browser();
  const back = await signInAndAuthorize(get, authURL, issuerURL, env.GATEHOUSE_OIDC_USERNAME, env.GATEHOUSE_OIDC_PASSWORD);
  const params = client.callbackParams(back.href);
  const tokens = await client.callback(env.GATEHOUSE_OIDC_REDIRECT_URI, params, { code_verifier, nonce, state });
  const claims = tokens.claims();
  assert.equal(claims.iss, issuerURL);
  assert.equal(claims.aud, env.GATEHOUSE_OIDC_CONF_ID);
  assert.equal(claims.azp, env.GATEHOUSE_OIDC_CONF_ID);
  assert.equal(claims.email, env.GATEHOUSE_OIDC_USERNAME);
  assert.equal(claims.preferred_username, env.GATEHOUSE_OIDC_USERNAME);
  assert.ok(claims.sid && claims.at_hash, 'sid and at_hash');
  assert.equal(JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url')).alg, 'RS256');

  const info = await client.userinfo(tokens.access_token);
  assert.equal(info.sub, claims.sub);

  const refreshed = await client.refresh(tokens.refresh_token);
  assert.ok(refreshed.access_token && refreshed.access_token !== tokens.access_token);
  assert.equal(refreshed.scope, 'openid email profile offline_access');
  assert.equal(refreshed.claims().sub, claims.sub);

  const active = await client.introspect(refreshed.access_token);
  assert.equal(active.active, true);
  assert.equal(active.sub, claims.sub);
  await client.revoke(refreshed.access_token, 'access_token');
  assert.equal((await client.introspect(refreshed.access_token)).active, false);
  await assert.rejects(client.refresh(refreshed.refresh_token), 'the revoked sign-in cannot refresh');

  // RP-initiated logout as mod_auth_openidc and Spring send it: the ID
  // token as hint, no client_id.
  const again = await signInAndAuthorize(get, client.authorizationUrl({ scope: 'openid', nonce, state,
    code_challenge: generators.codeChallenge(code_verifier), code_challenge_method: 'S256' }),
  issuerURL, env.GATEHOUSE_OIDC_USERNAME, env.GATEHOUSE_OIDC_PASSWORD);
  const second = await client.callback(env.GATEHOUSE_OIDC_REDIRECT_URI, client.callbackParams(again.href), { code_verifier, nonce, state });
  const endURL = new URL(client.endSessionUrl({ id_token_hint: second.id_token, post_logout_redirect_uri: env.GATEHOUSE_OIDC_LOGOUT_URI, state: 'bye' }));
  assert.equal(endURL.searchParams.get('client_id'), env.GATEHOUSE_OIDC_CONF_ID);
  endURL.searchParams.delete('client_id');
  const out = await get(endURL.href);
  assert.equal(out.status, 302);
  assert.equal(out.headers.get('location'), env.GATEHOUSE_OIDC_LOGOUT_URI + '?state=bye');
  assert.equal((await client.introspect(second.access_token)).active, false, 'logout ended the sign-in');
});
