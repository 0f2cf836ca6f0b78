// Remembered devices with amazon-cognito-identity-js (docs/cognito.md):
// the library confirms the device it is given at sign-in (ConfirmDevice
// with the verifier it computes), setDeviceStatusRemembered, then a
// second sign-in that authenticates the device with DEVICE_SRP_AUTH and
// DEVICE_PASSWORD_VERIFIER and is not asked for the TOTP code; getDevice,
// listDevices, and a device forgotten on the server, which the library
// drops on ResourceNotFoundException before signing in with the factor.
// The pool is made through CreateUserPool with a DeviceConfiguration.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { CognitoUserPool, CognitoUser, AuthenticationDetails } from 'amazon-cognito-identity-js';
import {
  CreateUserPoolCommand, CreateUserPoolClientCommand, SetUserPoolMfaConfigCommand, AdminCreateUserCommand,
  AdminSetUserPasswordCommand, AdminListDevicesCommand, AdminForgetDeviceCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { endpoint, password, admin, jwtPayload } from './lib/env.mjs';

let pool;
let poolId;

before(async () => {
  const created = await admin.send(new CreateUserPoolCommand({
    PoolName: 'devices',
    DeviceConfiguration: { ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true },
  }));
  poolId = created.UserPool.Id;
  assert.deepEqual(created.UserPool.DeviceConfiguration, { ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true });
  const client = await admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'devices-app' }));
  await admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: poolId, MfaConfiguration: 'OPTIONAL',
    SoftwareTokenMfaConfiguration: { Enabled: true } }));
  pool = new CognitoUserPool({ UserPoolId: poolId, ClientId: client.UserPoolClient.ClientId, endpoint });
});

function call(fn) {
  return new Promise((resolve, reject) => fn({ onSuccess: (...a) => resolve(a), onFailure: reject }));
}

// signIn runs authenticateUser (SRP); totp answers a TOTP challenge, and
// asked records that one came.
function signIn(username, totp, asked) {
  const user = new CognitoUser({ Username: username, Pool: pool });
  const details = new AuthenticationDetails({ Username: username, Password: password });
  return new Promise((resolve, reject) => {
    const callbacks = {
      onSuccess: (session, userConfirmationNecessary) => resolve({ user, session, userConfirmationNecessary }),
      onFailure: reject,
      totpRequired: () => {
        asked.push('SOFTWARE_TOKEN_MFA');
        if (!totp) return reject(new Error('unexpected TOTP challenge'));
        user.sendMFACode(totp.generate({ timestamp: Date.now() + 30_000 }), callbacks, 'SOFTWARE_TOKEN_MFA');
      },
      mfaRequired: () => reject(new Error('unexpected SMS_MFA')),
    };
    user.authenticateUser(details, callbacks);
  });
}

test('amazon-cognito-identity-js: ConfirmDevice, setDeviceStatusRemembered, then device SRP skips MFA; a forgotten device falls back', async () => {
  const username = `device-user-${Date.now()}`;
  await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS' }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: password, Permanent: true }));

  // First sign-in: the library confirms the new device; the pool asks the user.
  const first = await signIn(username, null, []);
  assert.equal(first.userConfirmationNecessary, true);
  const deviceKey = first.user.deviceKey;
  assert.match(deviceKey, new RegExp(`^${poolId.split('_')[0]}_[0-9a-f-]{36}$`));
  assert.equal(jwtPayload(first.session.getAccessToken().getJwtToken()).device_key, deviceKey);
  const [status] = await call((cb) => first.user.setDeviceStatusRemembered(cb));
  assert.equal(status, 'SUCCESS');
  const [device] = await call((cb) => first.user.getDevice(cb));
  const attrs = Object.fromEntries(device.Device.DeviceAttributes.map((a) => [a.Name, a.Value]));
  // Cognito's attributes: device_status "valid", the remembered status in
  // dev:device_remembered_status (as AWS's own list-devices example shows).
  assert.equal(attrs.device_status, 'valid');
  assert.equal(attrs['dev:device_remembered_status'], 'remembered');

  // TOTP, so that a sign-in without the device is asked for it.
  const secret = await new Promise((resolve, reject) => first.user.associateSoftwareToken({ associateSecretCode: resolve, onFailure: reject }));
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
  await call((cb) => first.user.verifySoftwareToken(totp.generate(), 'phone', cb));
  await new Promise((resolve, reject) => first.user.setUserMfaPreference(null, { PreferredMfa: true, Enabled: true },
    (err, res) => (err ? reject(err) : resolve(res))));

  // Second sign-in: the cached device key, DEVICE_SRP_AUTH, no TOTP.
  const asked = [];
  const second = await signIn(username, null, asked);
  assert.deepEqual(asked, []);
  assert.equal(second.session.isValid(), true);
  assert.equal(jwtPayload(second.session.getAccessToken().getJwtToken()).device_key, deviceKey);
  const list = await new Promise((resolve, reject) => second.user.listDevices(10, null, { onSuccess: resolve, onFailure: reject }));
  assert.equal(list.Devices.length, 1);
  assert.equal(list.Devices[0].DeviceKey, deviceKey);

  // Forgotten on the server: the library's cached key gets
  // ResourceNotFoundException, it drops it and signs in as a new device,
  // with the factor.
  await admin.send(new AdminForgetDeviceCommand({ UserPoolId: poolId, Username: username, DeviceKey: deviceKey }));
  const asked3 = [];
  const third = await signIn(username, totp, asked3);
  assert.deepEqual(asked3, ['SOFTWARE_TOKEN_MFA']);
  assert.notEqual(third.user.deviceKey, deviceKey);
  const devices = await admin.send(new AdminListDevicesCommand({ UserPoolId: poolId, Username: username }));
  assert.deepEqual(devices.Devices.map((d) => d.DeviceKey), [third.user.deviceKey]);
});
