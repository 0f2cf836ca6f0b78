package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// RawRates is what this machine's CPUs do with one signing algorithm and
// nothing else: signatures and verifications per second over a message
// the size of a token, on all CPUs (the load command's yardstick for the
// requests that sign or verify).
type RawRates struct {
	Alg            string
	Sign, Verify   float64 // per second
	SignD, VerifyD time.Duration
}

// MeasureRawRates measures alg (AlgES256 or AlgRS256, RSA-2048) for d
// each: first signing, then verifying, with one goroutine per CPU.
func MeasureRawRates(alg string, d time.Duration) (RawRates, error) {
	var (
		sign   func(digest []byte) ([]byte, error)
		verify func(digest, sig []byte) bool
	)
	switch alg {
	case AlgES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return RawRates{}, err
		}
		sign = func(h []byte) ([]byte, error) { return ecdsa.SignASN1(rand.Reader, k, h) }
		verify = func(h, sig []byte) bool { return ecdsa.VerifyASN1(&k.PublicKey, h, sig) }
	case AlgRS256:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return RawRates{}, err
		}
		sign = func(h []byte) ([]byte, error) { return rsa.SignPKCS1v15(nil, k, crypto.SHA256, h) }
		verify = func(h, sig []byte) bool { return rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, h, sig) == nil }
	default:
		return RawRates{}, fmt.Errorf("token: no raw rate for algorithm %q", alg)
	}
	msg := make([]byte, 1024) // header.payload of a typical access token
	digest := func() []byte { h := sha256.Sum256(msg); return h[:] }
	sig, err := sign(digest())
	if err != nil {
		return RawRates{}, err
	}
	r := RawRates{Alg: alg}
	var failed atomic.Bool
	r.Sign, r.SignD = onAllCPUs(d, func() {
		if _, err := sign(digest()); err != nil {
			failed.Store(true)
		}
	})
	r.Verify, r.VerifyD = onAllCPUs(d, func() {
		if !verify(digest(), sig) {
			failed.Store(true)
		}
	})
	if failed.Load() {
		return r, fmt.Errorf("token: %s raw rate: a signature failed", alg)
	}
	return r, nil
}

// onAllCPUs runs op in a loop on one goroutine per CPU for d and returns
// the calls per second and the time taken.
func onAllCPUs(d time.Duration, op func()) (float64, time.Duration) {
	var count atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for {
				op()
				count.Add(1)
				if !time.Now().Before(deadline) {
					return
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	return float64(count.Load()) / el.Seconds(), el
}
