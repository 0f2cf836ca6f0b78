// @aws-sdk/client-cognito-identity-provider: the admin calls the articles'
// back ends make, signed with the configured access key; SECRET_HASH with
// a client that has a secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  AdminAddUserToGroupCommand,
  AdminConfirmSignUpCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminUpdateUserAttributesCommand,
  CreateGroupCommand,
  GetGroupCommand,
  InitiateAuthCommand,
  ListUsersCommand,
  SignUpCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  admin, publicClient, endpoint, region, poolId, clientId, password, newEmail,
  secretClientId, secretClientSecret,
} from './lib/env.mjs';

test('admin calls: CreateGroup, GetGroup, AdminConfirmSignUp, AdminAddUserToGroup, ListUsers by email, AdminDeleteUser', async () => {
  const email = newEmail('admin');
  const group = `approved-${Date.now()}`;
  const up = await publicClient.send(new SignUpCommand({
    ClientId: clientId, Username: email, Password: password,
    UserAttributes: [{ Name: 'email', Value: email }, { Name: 'custom:company_name', Value: 'Globex' }],
  }));
  assert.equal(up.UserConfirmed, false);

  const created = await admin.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: group, Description: 'Approved companies', Precedence: 1 }));
  assert.equal(created.Group.GroupName, group);
  const got = await admin.send(new GetGroupCommand({ UserPoolId: poolId, GroupName: group }));
  assert.equal(got.Group.Description, 'Approved companies');
  assert.equal(got.Group.Precedence, 1);
  assert.ok(got.Group.CreationDate instanceof Date);

  await admin.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));
  // The company named at sign-up is a request in Gatehouse (nobody approved
  // it in this open pool): an admin sets it (docs/security.md A2).
  await admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: email,
    UserAttributes: [{ Name: 'custom:company_name', Value: 'Globex' }] }));
  await admin.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: email, GroupName: group }));
  const groups = await admin.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: email }));
  assert.deepEqual(groups.Groups.map((g) => g.GroupName), [group]);

  const list = await admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: `email = "${email}"` }));
  assert.equal(list.Users.length, 1);
  const u = list.Users[0];
  assert.equal(u.Username, up.UserSub);
  assert.equal(u.UserStatus, 'CONFIRMED');
  assert.equal(u.Enabled, true);
  const attrs = Object.fromEntries(u.Attributes.map((a) => [a.Name, a.Value]));
  assert.equal(attrs.email, email);
  assert.equal(attrs['custom:company_name'], 'Globex');
  assert.equal(attrs.sub, up.UserSub);

  await admin.send(new AdminDeleteUserCommand({ UserPoolId: poolId, Username: email }));
  await assert.rejects(admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: email })), { name: 'UserNotFoundException' });
  const none = await admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: `email = "${email}"` }));
  assert.equal(none.Users.length, 0);
});

test('admin calls are refused without a valid signature', async () => {
  const wrong = new CognitoIdentityProviderClient({
    endpoint, region, credentials: { accessKeyId: process.env.GATEHOUSE_ACCESS_KEY_ID, secretAccessKey: 'wrong-secret' },
  });
  await assert.rejects(wrong.send(new ListUsersCommand({ UserPoolId: poolId })), { name: 'InvalidSignatureException' });
  const unknown = new CognitoIdentityProviderClient({
    endpoint, region, credentials: { accessKeyId: 'AKIANOSUCHKEY0000000', secretAccessKey: 'whatever' },
  });
  await assert.rejects(unknown.send(new ListUsersCommand({ UserPoolId: poolId })), { name: 'UnrecognizedClientException' });
});

function secretHash(username) {
  return createHmac('sha256', secretClientSecret).update(username + secretClientId).digest('base64');
}

test('SECRET_HASH: a client with a secret', { skip: !secretClientId && 'no secret client configured' }, async () => {
  const email = newEmail('secret');
  await publicClient.send(new SignUpCommand({
    ClientId: secretClientId, SecretHash: secretHash(email), Username: email, Password: password,
    UserAttributes: [{ Name: 'email', Value: email }],
  }));
  await assert.rejects(publicClient.send(new SignUpCommand({
    ClientId: secretClientId, Username: newEmail('nohash'), Password: password,
  })), { name: 'NotAuthorizedException' });
  await admin.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));

  const ok = await publicClient.send(new InitiateAuthCommand({
    ClientId: secretClientId, AuthFlow: 'USER_PASSWORD_AUTH',
    AuthParameters: { USERNAME: email, PASSWORD: password, SECRET_HASH: secretHash(email) },
  }));
  assert.ok(ok.AuthenticationResult?.IdToken);
  await assert.rejects(publicClient.send(new InitiateAuthCommand({
    ClientId: secretClientId, AuthFlow: 'USER_PASSWORD_AUTH',
    AuthParameters: { USERNAME: email, PASSWORD: password, SECRET_HASH: secretHash(email + 'x') },
  })), (err) => {
    assert.equal(err.name, 'NotAuthorizedException');
    assert.match(err.message, /secret hash/i);
    return true;
  });
});
