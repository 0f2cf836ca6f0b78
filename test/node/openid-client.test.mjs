// The npm openid-client package (v6) as a relying party of Gatehouse's
// OpenID Connect provider: discovery, authorization code + PKCE S256 through
// the hosted sign-in page (driven with fetch and a cookie jar, as a browser
// would), the ID token's signature checked against jwks_uri
// (enableNonRepudiationChecks), userinfo, and refresh.
//
// Needs GATEHOUSE_OIDC_ISSUER, GATEHOUSE_OIDC_CLIENT_ID,
// GATEHOUSE_OIDC_REDIRECT_URI, GATEHOUSE_OIDC_USERNAME and
// GATEHOUSE_OIDC_PASSWORD (test/nodecompat's TestNodeOIDC sets them);
// skipped without them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { browser, signInAndAuthorize } from './lib/hosted.mjs';

const env = process.env;
const issuer = env.GATEHOUSE_OIDC_ISSUER;
const skip = issuer ? false : 'GATEHOUSE_OIDC_ISSUER not set';

test('openid-client: discovery, code + PKCE, ID token against jwks_uri, userinfo, refresh', { skip }, async () => {
  const config = await client.discovery(new URL(issuer), env.GATEHOUSE_OIDC_CLIENT_ID, undefined, client.None(), {
    execute: [client.allowInsecureRequests], // the test server is plain http on 127.0.0.1
  });
  client.enableNonRepudiationChecks(config); // verify the ID token's signature with jwks_uri
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, issuer);
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);

  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authURL = client.buildAuthorizationUrl(config, {
    redirect_uri: env.GATEHOUSE_OIDC_REDIRECT_URI,
    scope: 'openid email profile',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const back = await signInAndAuthorize(browser(), authURL, issuer, env.GATEHOUSE_OIDC_USERNAME, env.GATEHOUSE_OIDC_PASSWORD);
  assert.equal(back.origin + back.pathname, env.GATEHOUSE_OIDC_REDIRECT_URI);

  const tokens = await client.authorizationCodeGrant(config, back, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  // Nothing was configured: the ID token is RS256, as every RP expects.
  assert.equal(JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url')).alg, 'RS256');
  assert.equal(claims.iss, issuer);
  assert.equal(claims.aud, env.GATEHOUSE_OIDC_CLIENT_ID);
  assert.equal(claims.token_use, 'id');
  assert.equal(claims.email, env.GATEHOUSE_OIDC_USERNAME);
  assert.equal(claims['custom:company_name'], 'Acme Corporation');
  assert.deepEqual(claims['cognito:groups'], ['acme']);

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.sub, claims.sub);
  assert.equal(info.email, env.GATEHOUSE_OIDC_USERNAME);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.access_token && refreshed.access_token !== tokens.access_token);
  assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'refresh tokens rotate');
  assert.equal(refreshed.claims().sub, claims.sub);

  // The rotated-away refresh token is refused (and revokes its family).
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token));
  await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token));
});

test('openid-client: a redirect_uri differing in case is refused before any redirect', { skip }, async () => {
  const config = await client.discovery(new URL(issuer), env.GATEHOUSE_OIDC_CLIENT_ID, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  const challenge = await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier());
  const authURL = client.buildAuthorizationUrl(config, {
    redirect_uri: env.GATEHOUSE_OIDC_REDIRECT_URI.toUpperCase(),
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const res = await fetch(authURL, { redirect: 'manual' });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('location'), null);
});
