// Shared settings for the compatibility tests, from the environment the Go
// harness (test/nodecompat) sets. Run by hand against any Gatehouse:
//
//   GATEHOUSE_ENDPOINT=http://127.0.0.1:8080 GATEHOUSE_POOL_ID=... \
//   GATEHOUSE_CLIENT_ID=... GATEHOUSE_ACCESS_KEY_ID=... \
//   GATEHOUSE_SECRET_ACCESS_KEY=... node --test
//
// (GATEHOUSE_CODE_URL, the harness's endpoint that reveals the latest
// emailed code, is optional: without it the tests confirm users with
// AdminConfirmSignUp.)
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';

function need(name) {
  const v = process.env[name];
  assert.ok(v, `${name} must be set (see test/node/README.md)`);
  return v;
}

export const endpoint = need('GATEHOUSE_ENDPOINT');
export const poolId = need('GATEHOUSE_POOL_ID');
export const clientId = need('GATEHOUSE_CLIENT_ID');
export const secretClientId = process.env.GATEHOUSE_SECRET_CLIENT_ID || '';
export const secretClientSecret = process.env.GATEHOUSE_SECRET_CLIENT_SECRET || '';
export const codeURL = process.env.GATEHOUSE_CODE_URL || '';
export const region = poolId.split('_')[0];
export const password = 'Correct-Horse-Battery-Staple-42';

// admin signs with the configured access key (SigV4), as a back end does.
export const admin = new CognitoIdentityProviderClient({
  endpoint,
  region,
  credentials: { accessKeyId: need('GATEHOUSE_ACCESS_KEY_ID'), secretAccessKey: need('GATEHOUSE_SECRET_ACCESS_KEY') },
});

// publicClient calls the unsigned operations only.
export const publicClient = new CognitoIdentityProviderClient({
  endpoint,
  region,
  credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
});

// newEmail returns a fresh address for one test.
export function newEmail(tag) {
  return `${tag}-${randomUUID().slice(0, 8)}@example.com`;
}

// latestCode returns the newest code emailed to email (harness only).
export async function latestCode(email) {
  assert.ok(codeURL, 'GATEHOUSE_CODE_URL is not set');
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${codeURL}?email=${encodeURIComponent(email)}`);
    if (res.ok) return (await res.text()).trim();
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no code emailed to ${email}`);
}

// jwtPayload decodes a JWT's payload without verifying it.
export function jwtPayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}
