package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// testParams are tiny so tests run fast.
func testParams() Params { return Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32} }

func setup(t *testing.T, maxConcurrent int) *Hasher {
	t.Helper()
	return NewHasher(testParams(), maxConcurrent)
}

func TestHashVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected encoding %q", enc)
	}
	enc2, _ := h.Hash(ctx, "correct horse battery staple")
	if enc == enc2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	ok, err := h.Verify(ctx, enc, "correct horse battery staple")
	if err != nil || !ok {
		t.Fatalf("Verify = %v, %v; want true", ok, err)
	}
	ok, err = h.Verify(ctx, enc, "correct horse battery stapl")
	if err != nil || ok {
		t.Fatalf("wrong password: Verify = %v, %v; want false", ok, err)
	}
	if h.NeedsRehash(enc) {
		t.Fatal("NeedsRehash on a fresh hash")
	}
	h2 := NewHasher(Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	if !h2.NeedsRehash(enc) {
		t.Fatal("NeedsRehash = false with different params")
	}
	// A hash made with other params still verifies (params come from the string).
	ok, err = h2.Verify(ctx, enc, "correct horse battery staple")
	if err != nil || !ok {
		t.Fatalf("cross-param Verify = %v, %v", ok, err)
	}
}

func TestVerifyNormalisesUnicode(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	ctx := context.Background()
	nfc, nfd := "caf\u00e9 au lait, s'il vous pla\u00eet", "cafe\u0301 au lait, s'il vous plai\u0302t"
	enc, err := h.Hash(ctx, nfd)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{nfc, nfd} {
		if ok, err := h.Verify(ctx, enc, pw); !ok || err != nil {
			t.Fatalf("Verify(%q) = %v, %v", pw, ok, err)
		}
	}
	// A hash of the raw NFD bytes (made by a system that does not
	// normalise) still verifies with the NFD input.
	salt := []byte("0123456789abcdef")
	raw := encode(testParams(), salt, argon2.IDKey([]byte(nfd), salt, 1, 64, 1, 32))
	if ok, err := h.Verify(ctx, raw, nfd); !ok || err != nil {
		t.Fatalf("raw NFD hash: Verify = %v, %v", ok, err)
	}
	if ok, _ := h.Verify(ctx, enc, "cafe au lait, s'il vous plait"); ok {
		t.Fatal("accent-less password accepted")
	}
}

func TestDefaultParamsEncoding(t *testing.T) {
	t.Parallel()
	h := NewHasher(DefaultParams(), 1)
	enc, err := h.Hash(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("encoding %q", enc)
	}
}

func TestVerifyTamperedAndMalformed(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "a password of some length")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(enc, "$")
	// Flip one character of the hash and of the salt: must verify false.
	flip := func(s string) string {
		b := []byte(s)
		if b[3] == 'A' {
			b[3] = 'B'
		} else {
			b[3] = 'A'
		}
		return string(b)
	}
	for name, tampered := range map[string]string{
		"hash": strings.Join(append(parts[:5:5], flip(parts[5])), "$"),
		"salt": strings.Join(append(append(parts[:4:4], flip(parts[4])), parts[5]), "$"),
		"time": strings.Replace(enc, "t=1", "t=2", 1),
	} {
		ok, err := h.Verify(ctx, tampered, "a password of some length")
		if err != nil || ok {
			t.Errorf("tampered %s: Verify = %v, %v; want false, nil", name, ok, err)
		}
	}
	salt, key := parts[4], parts[5]
	malformed := []string{
		"",
		"plain",
		"$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key, // argon2i is a foreign scheme (foreign.go); argon2d is not
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=2000000,t=1,p=1$" + salt + "$" + key, // > 1 GiB
		"$argon2id$v=19$m=64,t=100000,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=300$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + key,
		"$argon2id$v=19$m=64,m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$",
		"$argon2id$v=19$m=64,t=1,p=1$$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "!$" + key,
		"$argon2id$v=19$m=-1,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 600),
	}
	for _, m := range malformed {
		ok, err := h.Verify(ctx, m, "a password of some length")
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) = %v, %v; want ErrMalformedHash", m, ok, err)
		}
		if !h.NeedsRehash(m) {
			t.Errorf("NeedsRehash(%q) = false", m)
		}
	}
}

// TestConcurrencyBound hashes from many goroutines and checks, from inside
// each hash's critical window, that in-flight never exceeds the limit.
func TestConcurrencyBound(t *testing.T) {
	t.Parallel()
	const limit = 3
	h := setup(t, limit)
	ctx := context.Background()
	var (
		wg          sync.WaitGroup
		mu          sync.Mutex
		maxInFlight int
		maxWaiting  int
	)
	// Sample Stats continuously while the workers run.
	done := make(chan struct{})
	sampler := make(chan struct{})
	go func() {
		defer close(sampler)
		for {
			in, w := h.Stats()
			mu.Lock()
			maxInFlight = max(maxInFlight, in)
			maxWaiting = max(maxWaiting, w)
			mu.Unlock()
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				if _, err := h.Hash(ctx, "some password value"); err != nil {
					t.Error(err)
					return
				}
				in, _ := h.Stats()
				if in > limit {
					t.Errorf("in flight %d > limit %d", in, limit)
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	<-sampler
	if maxInFlight > limit {
		t.Fatalf("max in flight %d > limit %d", maxInFlight, limit)
	}
	if in, w := h.Stats(); in != 0 || w != 0 {
		t.Fatalf("after all done: in flight %d, waiting %d", in, w)
	}
	t.Logf("max in flight %d, max waiting %d", maxInFlight, maxWaiting)
}

func TestCancelWhileQueued(t *testing.T) {
	t.Parallel()
	h := setup(t, 1)
	// Occupy the only slot directly, so the next caller must queue.
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := h.Hash(ctx, "queued password")
		errc <- err
	}()
	// Wait (without a timer) until the goroutine is queued.
	for {
		if _, w := h.Stats(); w == 1 {
			break
		}
		runtime.Gosched()
	}
	cancel()
	err := <-errc
	if identity.ErrorCode(err) != identity.CodeTooManyRequests {
		t.Fatalf("err = %v; want CodeTooManyRequests", err)
	}
	if in, w := h.Stats(); in != 1 || w != 0 {
		t.Fatalf("stats = %d, %d; want 1, 0", in, w)
	}
	h.release()
	// Verify and VerifyDummy honour an already-ended context too.
	if _, err := h.Verify(ctx, "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$"+strings.Repeat("A", 43), "x"); identity.ErrorCode(err) != identity.CodeTooManyRequests {
		t.Fatalf("Verify with ended ctx: %v", err)
	}
	h.VerifyDummy(ctx, "x") // must return, not block
	if _, err := h.Hash(context.Background(), "after"); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDummyUsesSlot(t *testing.T) {
	t.Parallel()
	h := setup(t, 1)
	h.VerifyDummy(context.Background(), "nobody's password")
	if in, w := h.Stats(); in != 0 || w != 0 {
		t.Fatalf("stats after VerifyDummy = %d, %d", in, w)
	}
}

func TestMeasureRawRate(t *testing.T) {
	t.Parallel()
	if r := MeasureRawRate(testParams(), 1); r <= 0 {
		t.Fatalf("rate = %v", r)
	}
}

func BenchmarkHashDefault(b *testing.B) {
	h := NewHasher(DefaultParams(), 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "benchmark password 123"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyParallel(b *testing.B) {
	h := NewHasher(DefaultParams(), 0)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "benchmark password 123")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := h.Verify(ctx, enc, "benchmark password 123"); !ok || err != nil {
				b.Error("verify failed", err)
				return
			}
		}
	})
}

func TestDecodeLimitFollowsOwnParams(t *testing.T) {
	t.Parallel()
	enc := "$argon2id$v=19$m=2000000,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43)
	if _, _, _, err := setup(t, 1).decode(enc); !errors.Is(err, ErrMalformedHash) {
		t.Fatalf("2 GB hash accepted by a default hasher: %v", err)
	}
	big := NewHasher(Params{Memory: 2_000_000, Time: 1, Threads: 1}, 1)
	if _, _, _, err := big.decode(enc); err != nil {
		t.Fatalf("hasher configured with m=2000000 refuses its own hashes: %v", err)
	}
	if big.NeedsRehash(enc) {
		t.Fatal("NeedsRehash on own params")
	}
}
