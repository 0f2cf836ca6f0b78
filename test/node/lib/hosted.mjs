// The hosted sign-in as a browser goes through it, for the OpenID relying
// party tests (openid-client 6 and 5): a cookie jar, manual redirects, and
// the sign-in form filled in when the provider shows it.
import assert from 'node:assert/strict';

// A minimal browser: a cookie jar and manual redirects.
export function browser() {
  const jar = new Map();
  return async function get(url, init = {}) {
    const headers = new Headers(init.headers || {});
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (/max-age=-1|max-age=0\b/i.test(c) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
}

const unescape = (s) => s.replace(/&amp;/g, '&').replace(/&#43;/g, '+').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');

// signInAndAuthorize follows the authorization request through the hosted
// sign-in page and returns the URL the provider sends the browser back to.
export async function signInAndAuthorize(get, authURL, issuer, username, password) {
  let next = typeof authURL === 'string' ? authURL : authURL.href;
  for (let i = 0; i < 10; i++) {
    const res = await get(next);
    if (res.status === 302 || res.status === 303) {
      const loc = new URL(res.headers.get('location'), next);
      if (loc.origin !== new URL(issuer).origin) return loc;
      next = loc.href;
      continue;
    }
    const body = await res.text();
    assert.equal(res.status, 200, `GET ${next}: ${body}`);
    assert.match(body, /name="password"/, 'expected the sign-in form');
    const form = new URLSearchParams();
    for (const m of body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.set(m[1], unescape(m[2]));
    form.set('username', username);
    form.set('password', password);
    const action = unescape(body.match(/<form[^>]* action="([^"]+)"/)[1]);
    const post = await get(new URL(action, next).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    assert.ok(post.status === 302 || post.status === 303, `sign-in answered ${post.status}: ${await post.text()}`);
    next = new URL(post.headers.get('location'), next).href;
  }
  throw new Error('too many redirects');
}

