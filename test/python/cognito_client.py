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


def _timestamp():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%a %b ") + str(now.day) + now.strftime(" %H:%M:%S UTC %Y")


def _ephemeral():
    while True:
        a = int.from_bytes(os.urandom(128), "big") % N
        big_a = pow(G, a, N)
        if big_a % N:
            return a, big_a


def _claim(small_a, large_a, realm, user_id, password, params):
    """The answer to a PASSWORD_VERIFIER or DEVICE_PASSWORD_VERIFIER
    challenge: realm is the pool name (the part of the pool id after "_")
    for a user's password, the DeviceGroupKey for a device's secret, and
    user_id the USER_ID_FOR_SRP or the DeviceKey."""
    salt, b = int(params["SALT"], 16), int(params["SRP_B"], 16)
    u = int.from_bytes(_h(pad(large_a), pad(b)), "big")
    x = int.from_bytes(_h(pad(salt), _h((realm + user_id + ":" + password).encode())), "big")
    s = pow((b - K * pow(G, x, N)) % N, small_a + u * x, N)
    prk = hmac.new(pad(u), pad(s), hashlib.sha256).digest()
    key = hmac.new(prk, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]
    timestamp = _timestamp()
    msg = realm.encode() + user_id.encode() + base64.b64decode(params["SECRET_BLOCK"]) + timestamp.encode()
    sig = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    return {
        "TIMESTAMP": timestamp,
        "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
        "PASSWORD_CLAIM_SIGNATURE": sig,
    }


class SRP:
    """USER_SRP_AUTH for one user, in the shape of pycognito's AWSSRP."""

    def __init__(self, username, password, pool_id, client_id, client_secret=None):
        self.username, self.password = username, password
        self.pool_id, self.client_id, self.client_secret = pool_id, client_id, client_secret
        self.small_a, self.large_a_value = _ephemeral()

    def get_auth_params(self):
        p = {"USERNAME": self.username, "SRP_A": long_to_hex(self.large_a_value)}
        if self.client_secret is not None:
            p["SECRET_HASH"] = secret_hash(self.username, self.client_id, self.client_secret)
        return p

    def process_challenge(self, params, request_params):
        user_id = params["USER_ID_FOR_SRP"]
        pool = self.pool_id.split("_", 1)[1]
        out = _claim(self.small_a, self.large_a_value, pool, user_id, self.password, params)
        out["USERNAME"] = user_id
        if self.client_secret is not None:
            out["SECRET_HASH"] = secret_hash(user_id, self.client_id, self.client_secret)
        return out


class Device:
    """A remembered device as amazon-cognito-identity-js keeps one: the
    DeviceKey and DeviceGroupKey of NewDeviceMetadata and a random device
    password whose SRP verifier ConfirmDevice stores (generateHashDevice:
    40 random bytes in base64, a 16-byte salt,
    x = H(salt || H(groupKey || deviceKey || ":" || password)))."""

    def __init__(self, metadata):
        self.key = metadata["DeviceKey"]
        self.group_key = metadata["DeviceGroupKey"]
        self.password = base64.b64encode(os.urandom(40)).decode()

    def verifier_config(self):
        salt = int.from_bytes(os.urandom(16), "big")
        x = int.from_bytes(_h(pad(salt), _h((self.group_key + self.key + ":" + self.password).encode())), "big")
        v = pow(G, x, N)
        return {"PasswordVerifier": base64.b64encode(pad(v)).decode(), "Salt": base64.b64encode(pad(salt)).decode()}


class DeviceSRP:
    """DEVICE_SRP_AUTH then DEVICE_PASSWORD_VERIFIER for a device, as
    Cognito defines them (RespondToAuthChallenge; the device group key
    takes the pool name's place, the device key the user's); password
    replaces the device's (a wrong secret)."""

    def __init__(self, username, device, password=None, client_id=None, client_secret=None):
        self.username, self.device = username, device
        self.password = device.password if password is None else password
        self.client_id, self.client_secret = client_id, client_secret
        self.small_a, self.large_a_value = _ephemeral()

    def _secret(self, out):
        if self.client_secret is not None:
            out["SECRET_HASH"] = secret_hash(self.username, self.client_id, self.client_secret)
        return out

    def srp_auth(self):
        """The DEVICE_SRP_AUTH ChallengeResponses."""
        return self._secret({"USERNAME": self.username, "DEVICE_KEY": self.device.key, "SRP_A": long_to_hex(self.large_a_value)})

    def password_verifier(self, params):
        """The DEVICE_PASSWORD_VERIFIER ChallengeResponses for the challenge's parameters."""
        out = _claim(self.small_a, self.large_a_value, self.device.group_key, self.device.key, self.password, params)
        out.update({"USERNAME": self.username, "DEVICE_KEY": self.device.key})
        return self._secret(out)


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
