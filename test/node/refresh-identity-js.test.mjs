// Refresh through amazon-cognito-identity-js (refreshSession: InitiateAuth
// REFRESH_TOKEN_AUTH) on the three kinds of app client: one made by
// CreateUserPoolClient (RefreshTokenRotation DISABLED, AWS's default: the
// same refresh token works again and again), one made with ENABLED
// (REFRESH_TOKEN_AUTH refused, as on AWS), and the harness's client made by
// Gatehouse's own API (rotation with reuse detection: the library keeps the
// new refresh token, the old one is used up).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CognitoUserPool, CognitoUser, AuthenticationDetails } from 'amazon-cognito-identity-js';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand, CreateUserPoolClientCommand, DeleteUserPoolClientCommand, InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { endpoint, poolId, clientId, password, newEmail, admin, publicClient, jwtPayload } from './lib/env.mjs';

async function confirmedUser(tag) {
  const email = newEmail(tag);
  await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: password, Permanent: true }));
  return email;
}

async function newClient(t, rotation) {
  const out = await admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'refresh-' + (rotation?.Feature ?? 'default'),
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], RefreshTokenRotation: rotation }));
  t.after(() => admin.send(new DeleteUserPoolClientCommand({ UserPoolId: poolId, ClientId: out.UserPoolClient.ClientId })));
  return out.UserPoolClient;
}

function signIn(client, email) {
  const pool = new CognitoUserPool({ UserPoolId: poolId, ClientId: client, endpoint });
  const user = new CognitoUser({ Username: email, Pool: pool });
  return new Promise((resolve, reject) => {
    user.authenticateUser(new AuthenticationDetails({ Username: email, Password: password }), {
      onSuccess: (session) => resolve({ user, session }),
      onFailure: reject,
    });
  });
}

function refresh(user, refreshToken) {
  return new Promise((resolve, reject) => user.refreshSession(refreshToken, (err, s) => (err ? reject(err) : resolve(s))));
}

test('amazon-cognito-identity-js: a DISABLED client refreshes twice with one refresh token', async (t) => {
  const c = await newClient(t);
  assert.equal(c.RefreshTokenRotation.Feature, 'DISABLED');
  const email = await confirmedUser('refresh-off');
  const { user, session } = await signIn(c.ClientId, email);
  const rt = session.getRefreshToken();
  const first = await refresh(user, rt);
  const second = await refresh(user, rt);
  for (const s of [first, second]) {
    assert.equal(s.isValid(), true);
    // No new refresh token came back: the library keeps the one it has.
    assert.equal(s.getRefreshToken().getToken(), rt.getToken());
    assert.equal(jwtPayload(s.getAccessToken().getJwtToken()).client_id, c.ClientId);
  }
});

test('amazon-cognito-identity-js: REFRESH_TOKEN_AUTH is refused on an ENABLED client, as on AWS', async (t) => {
  const c = await newClient(t, { Feature: 'ENABLED', RetryGracePeriodSeconds: 0 });
  const email = await confirmedUser('refresh-on');
  const { user, session } = await signIn(c.ClientId, email);
  await assert.rejects(refresh(user, session.getRefreshToken()), (err) => {
    assert.equal(err.code ?? err.name, 'InvalidParameterException');
    assert.match(err.message, /GetTokensFromRefreshToken/);
    return true;
  });
});

test("amazon-cognito-identity-js: Gatehouse's default client rotates, and the old token is used up", async () => {
  const email = await confirmedUser('refresh-rotate');
  const { user, session } = await signIn(clientId, email);
  const rt = session.getRefreshToken();
  const next = await refresh(user, rt);
  assert.equal(next.isValid(), true);
  assert.notEqual(next.getRefreshToken().getToken(), rt.getToken());
  // The old one is used up (asked through the SDK: the library would retry
  // the refusal for 6 s before giving up).
  await assert.rejects(publicClient.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'REFRESH_TOKEN_AUTH',
    AuthParameters: { REFRESH_TOKEN: rt.getToken() } })), (err) => {
    assert.equal(err.name, 'NotAuthorizedException');
    return true;
  });
});
