// Remembered devices with Amplify v6 (docs/cognito.md): signIn confirms
// the device Cognito issues (ConfirmDevice with the verifier Amplify
// computes); in a pool that remembers devices on the user's prompt,
// fetchDevices lists nothing until rememberDevice(); the next signIn
// authenticates the device (DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER) and
// skips the TOTP step; forgetDevice() forgets it on the server, ends its
// sign-in, and the next signIn asks for the code again. The pool is made
// through CreateUserPool with a DeviceConfiguration; Amplify is
// configured for it (each test file runs in its own process).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { Amplify } from 'aws-amplify';
import { signIn, confirmSignIn, signOut, fetchAuthSession, setUpTOTP, verifyTOTPSetup, updateMFAPreference,
  rememberDevice, fetchDevices, forgetDevice } from 'aws-amplify/auth';
import {
  CreateUserPoolCommand, CreateUserPoolClientCommand, SetUserPoolMfaConfigCommand, AdminCreateUserCommand,
  AdminSetUserPasswordCommand, AdminListDevicesCommand, GetUserCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { endpoint, password, admin, publicClient, jwtPayload } from './lib/env.mjs';

// Amplify names the device from the browser's navigator (getDeviceName);
// Node 20 has no navigator, and without one Amplify skips ConfirmDevice
// silently. A browser's user agent stands in.
const browserUA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
if (!globalThis.navigator) {
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: browserUA }, configurable: true });
}

let poolId;

before(async () => {
  const created = await admin.send(new CreateUserPoolCommand({
    PoolName: 'amplify-devices',
    DeviceConfiguration: { ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true },
  }));
  poolId = created.UserPool.Id;
  const client = await admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'amplify-devices' }));
  await admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: poolId, MfaConfiguration: 'OPTIONAL',
    SoftwareTokenMfaConfiguration: { Enabled: true } }));
  Amplify.configure({
    Auth: { Cognito: { userPoolId: poolId, userPoolClientId: client.UserPoolClient.ClientId, userPoolEndpoint: endpoint } },
  });
});

// next is the code of the next 30 s step (a code is accepted once, ±1
// step is accepted).
function next(totp) {
  return totp.generate({ timestamp: Date.now() + 30_000 });
}

test('Amplify v6: rememberDevice, fetchDevices, then signIn skips the TOTP step; forgetDevice ends it', async () => {
  const username = `amplify-device-${Date.now()}`;
  await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS' }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: password, Permanent: true }));

  // First sign-in (SRP): Amplify confirms the new device; the pool waits
  // for the user's prompt, so the user's list is empty, the admin's not.
  const first = await signIn({ username, password });
  assert.equal(first.isSignedIn, true, JSON.stringify(first.nextStep));
  const firstToken = (await fetchAuthSession()).tokens.accessToken;
  const deviceKey = firstToken.payload.device_key;
  assert.match(deviceKey, new RegExp(`^${poolId.split('_')[0]}_[0-9a-f-]{36}$`));
  assert.deepEqual(await fetchDevices(), []);
  const tracked = await admin.send(new AdminListDevicesCommand({ UserPoolId: poolId, Username: username }));
  assert.deepEqual(tracked.Devices.map((d) => d.DeviceKey), [deviceKey]);

  // TOTP, so that a sign-in without the device is asked for it.
  const setup = await setUpTOTP();
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(setup.sharedSecret), algorithm: 'SHA1', digits: 6, period: 30 });
  await verifyTOTPSetup({ code: totp.generate() });
  await updateMFAPreference({ totp: 'PREFERRED' });

  // rememberDevice: now listed, remembered.
  await rememberDevice();
  const devices = await fetchDevices();
  assert.equal(devices.length, 1);
  assert.equal(devices[0].id, deviceKey);
  assert.equal(devices[0].name, globalThis.navigator.userAgent);
  assert.equal(devices[0].attributes.device_status, 'valid');
  assert.equal(devices[0].attributes['dev:device_remembered_status'], 'remembered');
  assert.ok(devices[0].createDate instanceof Date && devices[0].createDate.getFullYear() >= 2024, String(devices[0].createDate));
  assert.ok(devices[0].lastAuthenticatedDate instanceof Date);
  await signOut();

  // Next sign-in: Amplify sends the remembered device's key, answers
  // DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER; no TOTP step.
  const second = await signIn({ username, password });
  assert.equal(second.isSignedIn, true, JSON.stringify(second.nextStep));
  const session = await fetchAuthSession();
  assert.equal(session.tokens.accessToken.payload.device_key, deviceKey);
  assert.deepEqual(session.tokens.idToken.payload.amr, ['pwd']);

  // forgetDevice: forgotten on the server, and the sign-ins issued to it
  // end (this one's access token is refused).
  const secondToken = session.tokens.accessToken.toString();
  await forgetDevice();
  const after = await admin.send(new AdminListDevicesCommand({ UserPoolId: poolId, Username: username }));
  assert.deepEqual(after.Devices, []);
  await assert.rejects(publicClient.send(new GetUserCommand({ AccessToken: secondToken })), (err) => {
    assert.equal(err.name, 'NotAuthorizedException');
    return true;
  });
  await signOut().catch(() => {}); // the tokens are revoked already

  // The next sign-in is a new device: the TOTP step again.
  const third = await signIn({ username, password });
  assert.equal(third.isSignedIn, false);
  assert.equal(third.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
  const done = await confirmSignIn({ challengeResponse: next(totp) });
  assert.equal(done.isSignedIn, true, JSON.stringify(done.nextStep));
  const third3 = await fetchAuthSession();
  assert.notEqual(third3.tokens.accessToken.payload.device_key, deviceKey);
  assert.equal(jwtPayload(third3.tokens.accessToken.toString()).device_key, third3.tokens.accessToken.payload.device_key);
  await signOut();
});
