// amazon-cognito-identity-js: sign-up and SRP sign-in with its `endpoint`
// option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CognitoUserPool, CognitoUser, AuthenticationDetails, CognitoUserAttribute } from 'amazon-cognito-identity-js';
import { AdminConfirmSignUpCommand, AdminUpdateUserAttributesCommand } from '@aws-sdk/client-cognito-identity-provider';
import { endpoint, poolId, clientId, password, newEmail, admin } from './lib/env.mjs';

const pool = new CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint });

function signUp(email) {
  return new Promise((resolve, reject) => {
    const attrs = [
      new CognitoUserAttribute({ Name: 'email', Value: email }),
      new CognitoUserAttribute({ Name: 'custom:company_name', Value: 'Initech' }),
    ];
    pool.signUp(email, password, attrs, null, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

function authenticate(email, pw) {
  const user = new CognitoUser({ Username: email, Pool: pool });
  const details = new AuthenticationDetails({ Username: email, Password: pw });
  return new Promise((resolve, reject) => {
    user.authenticateUser(details, {
      onSuccess: (session) => resolve({ user, session }),
      onFailure: reject,
      newPasswordRequired: () => reject(new Error('unexpected NEW_PASSWORD_REQUIRED')),
    });
  });
}

test('amazon-cognito-identity-js: signUp, then SRP authenticateUser', async () => {
  const email = newEmail('identityjs');
  const res = await signUp(email);
  assert.equal(res.userConfirmed, false);
  assert.ok(res.userSub);

  await assert.rejects(authenticate(email, password), (err) => {
    assert.equal(err.code ?? err.name, 'UserNotConfirmedException');
    return true;
  });
  await admin.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));
  // The company named at sign-up is a request in Gatehouse (nobody approved
  // it in this open pool): an admin sets it (docs/security.md A2).
  await admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: email,
    UserAttributes: [{ Name: 'custom:company_name', Value: 'Initech' }] }));

  const { user, session } = await authenticate(email, password);
  assert.equal(session.isValid(), true);
  const id = session.getIdToken().decodePayload();
  assert.equal(id.email, email);
  assert.equal(id.sub, res.userSub);
  assert.equal(id['custom:company_name'], 'Initech');
  assert.equal(session.getAccessToken().decodePayload().token_use, 'access');
  assert.ok(session.getRefreshToken().getToken());
  // USER_ID_FOR_SRP (the sub in an email pool) becomes the user's name.
  assert.equal(user.getUsername(), res.userSub);
});

test('amazon-cognito-identity-js: wrong password and unknown user', async () => {
  const email = newEmail('identityjs-wrong');
  await signUp(email);
  await admin.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));
  await assert.rejects(authenticate(email, 'Not-The-Password-123'), (err) => {
    assert.equal(err.code ?? err.name, 'NotAuthorizedException');
    assert.equal(err.message, 'Incorrect username or password.');
    return true;
  });
  await assert.rejects(authenticate(newEmail('nobody'), password), (err) => {
    assert.match(err.code ?? err.name, /UserNotFoundException|NotAuthorizedException/);
    return true;
  });
});
