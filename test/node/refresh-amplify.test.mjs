// Amplify v6 refreshes with GetTokensFromRefreshToken (aws-amplify >=
// 6.15.4): on a client made by CreateUserPoolClient with rotation ENABLED it
// gets and keeps a new refresh token each time; on one made without it
// (DISABLED, AWS's default) it keeps the one it has. Either way
// fetchAuthSession({ forceRefresh: true }) works again and again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Amplify } from 'aws-amplify';
import { signIn, signOut, fetchAuthSession } from 'aws-amplify/auth';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand, CreateUserPoolClientCommand, DeleteUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { endpoint, poolId, password, newEmail, admin, jwtPayload } from './lib/env.mjs';

async function confirmedUser(tag) {
  const email = newEmail(tag);
  await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: password, Permanent: true }));
  return email;
}

for (const rotation of [{ Feature: 'ENABLED', RetryGracePeriodSeconds: 10 }, undefined]) {
  const name = rotation ? "ENABLED" : "unset (DISABLED)";
  test(`Amplify v6: fetchAuthSession({ forceRefresh }) twice on an ${name} client`, async (t) => {
    const out = await admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'amplify-refresh',
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], RefreshTokenRotation: rotation }));
    const client = out.UserPoolClient.ClientId;
    t.after(() => admin.send(new DeleteUserPoolClientCommand({ UserPoolId: poolId, ClientId: client })));
    Amplify.configure({ Auth: { Cognito: { userPoolId: poolId, userPoolClientId: client, userPoolEndpoint: endpoint } } });
    const email = await confirmedUser('amplify-refresh');
    const res = await signIn({ username: email, password });
    assert.equal(res.isSignedIn, true, JSON.stringify(res.nextStep));
    const seen = new Set();
    for (let i = 0; i < 3; i++) {
      const s = await fetchAuthSession({ forceRefresh: i > 0 });
      const access = s.tokens?.accessToken?.toString();
      assert.ok(access, `tokens after refresh ${i}`);
      assert.equal(jwtPayload(access).client_id, client);
      seen.add(jwtPayload(access).jti ?? access);
    }
    assert.equal(seen.size, 3, 'each refresh issued new tokens');
    await signOut();
  });
}
