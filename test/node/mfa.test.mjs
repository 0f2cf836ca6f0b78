// Second factors with the real client libraries (docs/mfa.md): Amplify v6
// (setUpTOTP, verifyTOTPSetup, updateMFAPreference, signIn answered by
// CONFIRM_SIGN_IN_WITH_TOTP_CODE and confirmSignIn, the EMAIL_OTP
// challenge) and amazon-cognito-identity-js (associateSoftwareToken,
// verifySoftwareToken, sendMFACode). The TOTP codes come from the npm
// `otpauth` library, not from Gatehouse.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { Amplify } from 'aws-amplify';
import { signUp, confirmSignUp, signIn, confirmSignIn, signOut, fetchAuthSession, setUpTOTP, verifyTOTPSetup,
  updateMFAPreference, fetchMFAPreference } from 'aws-amplify/auth';
import { CognitoUserPool, CognitoUser, AuthenticationDetails } from 'amazon-cognito-identity-js';
import { AdminConfirmSignUpCommand, SetUserPoolMfaConfigCommand } from '@aws-sdk/client-cognito-identity-provider';
import { endpoint, poolId, clientId, password, newEmail, latestCode, codeURL, admin } from './lib/env.mjs';

Amplify.configure({
  Auth: { Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: endpoint } },
});

// OPTIONAL: only users who enabled a factor are asked (the other test
// files' users are not).
before(async () => {
  await admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: poolId, MfaConfiguration: 'OPTIONAL',
    SoftwareTokenMfaConfiguration: { Enabled: true }, EmailMfaConfiguration: {} }));
});

function totpFor(secret) {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
}

// next is the code of the next 30 s step: the step of the enrolment's code
// is spent (a code is accepted once), and ±1 step is accepted.
function next(totp) {
  return totp.generate({ timestamp: Date.now() + 30_000 });
}

async function confirmedUser(tag) {
  const email = newEmail(tag);
  await signUp({ username: email, password, options: { userAttributes: { email } } });
  if (codeURL) {
    await confirmSignUp({ username: email, confirmationCode: await latestCode(email) }); // verifies the email
  } else {
    await admin.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));
  }
  return email;
}

test('Amplify v6: setUpTOTP, verifyTOTPSetup, updateMFAPreference, then signIn with CONFIRM_SIGN_IN_WITH_TOTP_CODE', async () => {
  const email = await confirmedUser('amplify-totp');
  const first = await signIn({ username: email, password });
  assert.equal(first.isSignedIn, true, JSON.stringify(first.nextStep));

  const setup = await setUpTOTP();
  assert.match(setup.getSetupUri('Gatehouse').href, /^otpauth:\/\/totp\//);
  const totp = totpFor(setup.sharedSecret);
  await verifyTOTPSetup({ code: totp.generate() });
  await updateMFAPreference({ totp: 'PREFERRED' });
  const pref = await fetchMFAPreference();
  assert.equal(pref.preferred, 'TOTP');
  assert.deepEqual(pref.enabled, ['TOTP']);
  await signOut();

  const res = await signIn({ username: email, password }); // SRP, then the factor
  assert.equal(res.isSignedIn, false);
  assert.equal(res.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
  await assert.rejects(confirmSignIn({ challengeResponse: '000000' === next(totp) ? '111111' : '000000' }), (err) => {
    assert.equal(err.name, 'CodeMismatchException');
    return true;
  });
  const done = await confirmSignIn({ challengeResponse: next(totp) });
  assert.equal(done.isSignedIn, true, JSON.stringify(done.nextStep));
  const session = await fetchAuthSession();
  assert.deepEqual(session.tokens.idToken.payload.amr, ['pwd', 'otp', 'mfa']);
  await signOut();
});

test('Amplify v6: the EMAIL_OTP challenge', { skip: !codeURL && 'needs GATEHOUSE_CODE_URL' }, async () => {
  const email = await confirmedUser('amplify-email');
  const first = await signIn({ username: email, password });
  assert.equal(first.isSignedIn, true, JSON.stringify(first.nextStep));
  await updateMFAPreference({ email: 'PREFERRED' });
  await signOut();

  const res = await signIn({ username: email, password });
  assert.equal(res.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE', JSON.stringify(res.nextStep));
  assert.equal(res.nextStep.codeDeliveryDetails?.deliveryMedium, 'EMAIL');
  const done = await confirmSignIn({ challengeResponse: await latestCode(email) });
  assert.equal(done.isSignedIn, true, JSON.stringify(done.nextStep));
  await signOut();
});

const pool = new CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint });

test('amazon-cognito-identity-js: associateSoftwareToken, verifySoftwareToken, then sendMFACode', async () => {
  const email = await confirmedUser('identityjs-totp');
  const user = new CognitoUser({ Username: email, Pool: pool });
  const details = new AuthenticationDetails({ Username: email, Password: password });
  await new Promise((resolve, reject) => user.authenticateUser(details, { onSuccess: resolve, onFailure: reject }));

  const secret = await new Promise((resolve, reject) => user.associateSoftwareToken({
    associateSecretCode: resolve, onFailure: reject,
  }));
  const totp = totpFor(secret);
  await new Promise((resolve, reject) => user.verifySoftwareToken(totp.generate(), 'phone', { onSuccess: resolve, onFailure: reject }));
  await new Promise((resolve, reject) => user.setUserMfaPreference(null, { PreferredMfa: true, Enabled: true },
    (err, res) => (err ? reject(err) : resolve(res))));

  const again = new CognitoUser({ Username: email, Pool: pool });
  const session = await new Promise((resolve, reject) => {
    const callbacks = {
      onSuccess: resolve,
      onFailure: reject,
      totpRequired: (name) => {
        assert.equal(name, 'SOFTWARE_TOKEN_MFA');
        again.sendMFACode(next(totp), callbacks, 'SOFTWARE_TOKEN_MFA');
      },
      mfaRequired: () => reject(new Error('unexpected SMS_MFA')),
    };
    again.authenticateUser(details, callbacks);
  });
  assert.equal(session.isValid(), true);
  assert.deepEqual(session.getIdToken().decodePayload().amr, ['pwd', 'otp', 'mfa']);
});
