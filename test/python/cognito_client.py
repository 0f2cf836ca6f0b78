"""Client-side helpers the ported tests need and Debian does not package:
Cognito's SRP (the arithmetic amazon-cognito-identity-js and pycognito do,
docs/cognito-srp.md), SECRET_HASH, and TOTP codes (RFC 6238) that a server
refusing replays accepts.

Written for Gatehouse; only the standard library.
"""
import base64
import datetime
import hashlib
import hmac
import os
import struct
import time

N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D"
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9"
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64"
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B"
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31"
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2


def pad(x):
    """Cognito's padHex, as bytes: a leading zero byte when the high bit is set."""
    b = x.to_bytes((x.bit_length() + 7) // 8 or 1, "big")
    return b"\x00" + b if b[0] & 0x80 else b


def _h(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


K = int.from_bytes(_h(pad(N), pad(G)), "big")


def secret_hash(username, client_id, client_secret):
    mac = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def long_to_hex(x):
    return "%x" % x


class SRP:
    """USER_SRP_AUTH for one user, in the shape of pycognito's AWSSRP."""

    def __init__(self, username, password, pool_id, client_id, client_secret=None):
        self.username, self.password = username, password
        self.pool_id, self.client_id, self.client_secret = pool_id, client_id, client_secret
        while True:
            self.small_a = int.from_bytes(os.urandom(128), "big") % N
            self.large_a_value = pow(G, self.small_a, N)
            if self.large_a_value % N:
                break

    def get_auth_params(self):
        p = {"USERNAME": self.username, "SRP_A": long_to_hex(self.large_a_value)}
        if self.client_secret is not None:
            p["SECRET_HASH"] = secret_hash(self.username, self.client_id, self.client_secret)
        return p

    def process_challenge(self, params, request_params):
        user_id = params["USER_ID_FOR_SRP"]
        salt, b = int(params["SALT"], 16), int(params["SRP_B"], 16)
        pool = self.pool_id.split("_", 1)[1]
        u = int.from_bytes(_h(pad(self.large_a_value), pad(b)), "big")
        x = int.from_bytes(_h(pad(salt), _h((pool + user_id + ":" + self.password).encode())), "big")
        s = pow((b - K * pow(G, x, N)) % N, self.small_a + u * x, N)
        prk = hmac.new(pad(u), pad(s), hashlib.sha256).digest()
        key = hmac.new(prk, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]
        now = datetime.datetime.now(datetime.timezone.utc)
        timestamp = now.strftime("%a %b ") + str(now.day) + now.strftime(" %H:%M:%S UTC %Y")
        msg = pool.encode() + user_id.encode() + base64.b64decode(params["SECRET_BLOCK"]) + timestamp.encode()
        sig = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
        out = {
            "TIMESTAMP": timestamp,
            "USERNAME": user_id,
            "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
            "PASSWORD_CLAIM_SIGNATURE": sig,
        }
        if self.client_secret is not None:
            out["SECRET_HASH"] = secret_hash(user_id, self.client_id, self.client_secret)
        return out


class TOTP:
    """RFC 6238 codes (SHA-1, 6 digits, 30 s), as pyotp.TOTP makes them.

    A server that accepts each code once (AWS: "Your software token has
    already been used once", Gatehouse likewise) needs a code of a later
    step than the last one used: fresh() gives the earliest such code the
    server still accepts (it allows one step of clock skew), waiting only
    when the next step is not yet within reach."""

    def __init__(self, secret):
        s = secret.upper()
        self.key = base64.b32decode(s + "=" * (-len(s) % 8))
        self.used = -1

    def at_step(self, step):
        mac = hmac.new(self.key, struct.pack(">Q", step), hashlib.sha1).digest()
        o = mac[-1] & 0x0F
        return "%06d" % ((struct.unpack(">I", mac[o : o + 4])[0] & 0x7FFFFFFF) % 1000000)

    def now(self):
        step = int(time.time()) // 30
        self.used = max(self.used, step)
        return self.at_step(step)

    def fresh(self):
        step = max(int(time.time()) // 30, self.used + 1)
        while step > int(time.time()) // 30 + 1:
            time.sleep(1)
        self.used = step
        return self.at_step(step)
