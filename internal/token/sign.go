package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// Compact JWS signing without a JOSE library.
//
// Signing reads nothing from outside (the claims are Gatehouse's own, the
// key is the pool's), so it is written out here instead of going through
// go-jose, whose signer is built per call and marshals its header per
// token: on a refresh (two signatures) that was a fifth of the request's
// allocations. The protected header is the one go-jose wrote, byte for
// byte ({"alg":...,"kid":...,"typ":...}, keys sorted), encoded once per
// key and type. Verification stays with go-jose (jwt.go): it parses what
// a client sends.

var b64 = base64.RawURLEncoding

// headers caches the encoded protected header by alg, kid and typ.
var headers sync.Map // string -> string

// protectedHeader returns the base64url of the JWS protected header.
func protectedHeader(alg, kid, typ string) (string, error) {
	id := alg + "\x00" + kid + "\x00" + typ
	if h, ok := headers.Load(id); ok {
		return h.(string), nil
	}
	// encoding/json sorts map keys: alg, kid, typ, as go-jose wrote them.
	j, err := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": typ})
	if err != nil {
		return "", err
	}
	h := b64.EncodeToString(j)
	headers.Store(id, h)
	return h, nil
}

// signCompact returns the compact JWS of payload signed with priv under
// alg (ES256: P-256 and SHA-256, r || s with s in its low form, lows.go;
// RS256: RSASSA-PKCS1-v1_5 with SHA-256).
func signCompact(alg, kid, typ string, priv crypto.Signer, payload []byte) (string, error) {
	h, err := protectedHeader(alg, kid, typ)
	if err != nil {
		return "", err
	}
	sigLen := 64
	if alg == AlgRS256 {
		k, ok := priv.(*rsa.PrivateKey)
		if !ok {
			return "", fmt.Errorf("token: key %s is not an RSA key", kid)
		}
		sigLen = k.Size()
	}
	n := len(h) + 1 + b64.EncodedLen(len(payload))
	buf := make([]byte, n, n+1+b64.EncodedLen(sigLen))
	copy(buf, h)
	buf[len(h)] = '.'
	b64.Encode(buf[len(h)+1:], payload)
	digest := sha256.Sum256(buf)
	var sig []byte
	switch alg {
	case AlgES256:
		k, ok := priv.(*ecdsa.PrivateKey)
		if !ok {
			return "", fmt.Errorf("token: key %s is not an ECDSA key", kid)
		}
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			return "", err
		}
		if s.Cmp(p256HalfN) > 0 { // only the low-s form is ever issued (lows.go)
			s.Sub(p256N, s)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case AlgRS256:
		if sig, err = rsa.SignPKCS1v15(rand.Reader, priv.(*rsa.PrivateKey), crypto.SHA256, digest[:]); err != nil {
			return "", err
		}
	default:
		return "", errors.New("token: unsupported algorithm " + alg)
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	return string(buf), nil
}
