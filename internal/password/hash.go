package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // iterations
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are OWASP's argon2id recommendation (m=19 MiB, t=2, p=1),
// with a 16-byte salt and a 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Limits on parameters read from an encoded hash. Hashes may be imported
// (admin user import), so a hash with absurd parameters must not be able to
// make one Verify eat the machine. A Hasher configured above these limits
// accepts hashes up to its own parameters.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 128
)

// ErrMalformedHash is returned (wrapped) by Verify when the stored hash is
// not an argon2id PHC string Gatehouse accepts, including one whose
// parameters exceed the safety limits. It indicates bad data on the server
// side, not a wrong password.
var ErrMalformedHash = errors.New("password: malformed or unsupported hash")

// Metrics, shared by every Hasher in the process.
var (
	metricInFlight = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "gatehouse_password_hashes_in_flight",
		Help: "Password hashes (hash or verify) being computed right now.",
	})
	metricWaiting = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "gatehouse_password_hash_queue_waiting",
		Help: "Password hash requests waiting for a free slot.",
	})
	metricSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "gatehouse_password_hash_seconds",
		Help:    "Time to compute one password hash, excluding queueing.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
	})
)

// Hasher hashes and verifies passwords with argon2id. At most maxConcurrent
// hashes run at once (each takes Params.Memory KiB), so memory stays bounded
// under load; further callers wait in line until their context ends.
//
// A Hasher is safe for concurrent use.
type Hasher struct {
	params Params
	sem    chan struct{}

	inFlight atomic.Int64
	waiting  atomic.Int64

	dummyOnce sync.Once
	dummySalt []byte
	dummyKey  []byte
}

// NewHasher returns a Hasher that hashes new passwords with p and runs at
// most maxConcurrent hashes at once (maxConcurrent <= 0: runtime.NumCPU()).
// Zero fields of p take DefaultParams' values.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	d := DefaultParams()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	return &Hasher{params: p, sem: make(chan struct{}, maxConcurrent)}
}

// Params returns the parameters used for new hashes.
func (h *Hasher) Params() Params { return h.params }

// Stats returns the number of hashes being computed and the number of
// callers waiting for a slot.
func (h *Hasher) Stats() (inFlight, waiting int) {
	return int(h.inFlight.Load()), int(h.waiting.Load())
}

// errBusy is returned when the context ends while waiting for a slot.
func errBusy(err error) error {
	return &identity.Error{Code: identity.CodeTooManyRequests, Message: "Too many requests; try again later.", Err: err}
}

// acquire takes a slot, waiting until one is free or ctx ends.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return errBusy(err)
	}
	select {
	case h.sem <- struct{}{}:
	default:
		h.waiting.Add(1)
		metricWaiting.Inc()
		select {
		case h.sem <- struct{}{}:
			h.waiting.Add(-1)
			metricWaiting.Dec()
		case <-ctx.Done():
			h.waiting.Add(-1)
			metricWaiting.Dec()
			return errBusy(ctx.Err())
		}
	}
	h.inFlight.Add(1)
	metricInFlight.Inc()
	return nil
}

func (h *Hasher) release() {
	h.inFlight.Add(-1)
	metricInFlight.Dec()
	<-h.sem
}

// compute runs argon2id under the concurrency bound.
func (h *Hasher) compute(ctx context.Context, password string, salt []byte, p Params) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer h.release()
	start := time.Now()
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	metricSeconds.Observe(time.Since(start).Seconds())
	return key, nil
}

// Hash returns the argon2id hash of password, NFC-normalised (so the same
// password typed on systems that compose accents differently matches), in
// PHC form:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
// It returns an *identity.Error with CodeTooManyRequests if ctx ends while
// waiting for a slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key, err := h.compute(ctx, norm.NFC.String(password), salt, h.params)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches encoded, comparing in constant
// time. The password is NFC-normalised as in Hash; if that does not match
// and the password was not in NFC, the raw form is tried too (for hashes
// imported from systems that do not normalise). The parameters come from encoded (so hashes made with older
// parameters keep working; see NeedsRehash). It returns an error wrapping
// ErrMalformedHash if encoded is not an acceptable argon2id hash, and an
// *identity.Error with CodeTooManyRequests if ctx ends while waiting.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	if !strings.HasPrefix(encoded, "$argon2id$") {
		return h.verifyForeign(ctx, encoded, password)
	}
	p, salt, want, err := h.decode(encoded)
	if err != nil {
		return false, err
	}
	nfc := norm.NFC.String(password)
	got, err := h.compute(ctx, nfc, salt, p)
	if err != nil {
		return false, err
	}
	if subtle.ConstantTimeCompare(got, want) == 1 {
		return true, nil
	}
	if nfc == password {
		return false, nil
	}
	if got, err = h.compute(ctx, password, salt, p); err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// verifyForeign verifies a hash imported from another system (foreign.go)
// under the concurrency bound: the password as given first (those systems
// hash what was typed), then its NFC form if that differs.
func (h *Hasher) verifyForeign(ctx context.Context, encoded, password string) (bool, error) {
	f, err := parseForeign(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	start := time.Now()
	defer func() { metricSeconds.Observe(time.Since(start).Seconds()) }()
	ok, err := f.match([]byte(password))
	if err != nil || ok {
		return ok, err
	}
	if nfc := norm.NFC.String(password); nfc != password {
		return f.match([]byte(nfc))
	}
	return false, nil
}

// VerifyDummy does the work of a Verify against a hash made with the
// Hasher's current parameters, and discards the result. Call it for unknown
// users so that response time does not reveal whether a user exists.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) {
	h.dummyOnce.Do(func() {
		h.dummySalt = make([]byte, h.params.SaltLen)
		_, _ = rand.Read(h.dummySalt)
		h.dummyKey = make([]byte, h.params.KeyLen)
		_, _ = rand.Read(h.dummyKey)
	})
	got, err := h.compute(ctx, norm.NFC.String(password), h.dummySalt, h.params)
	if err == nil {
		_ = subtle.ConstantTimeCompare(got, h.dummyKey)
	}
}

// NeedsRehash reports whether encoded was made with parameters other than
// the Hasher's current ones, is a foreign hash (foreign.go), or cannot be
// parsed, so the caller should store a fresh Hash after a successful
// Verify.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, salt, key, err := h.decode(encoded)
	if err != nil {
		return true
	}
	return p.Memory != h.params.Memory || p.Time != h.params.Time || p.Threads != h.params.Threads ||
		uint32(len(salt)) != h.params.SaltLen || uint32(len(key)) != h.params.KeyLen
}

var b64 = base64.RawStdEncoding

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses a PHC argon2id string and checks its parameters against the
// safety limits (or the Hasher's own parameters, if higher).
func (h *Hasher) decode(encoded string) (Params, []byte, []byte, error) {
	return decode(encoded, max(maxMemoryKiB, h.params.Memory), max(maxTime, h.params.Time))
}

func decode(encoded string, maxMem, maxT uint32) (Params, []byte, []byte, error) {
	return decodeVariant(encoded, "argon2id", maxMem, maxT)
}

// decodeVariant parses a PHC string of the argon2 variant ("argon2id" or
// "argon2i").
func decodeVariant(encoded, variant string, maxMem, maxT uint32) (Params, []byte, []byte, error) {
	var p Params
	bad := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	if len(encoded) > 512 {
		return bad("too long")
	}
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" {
		return bad("wrong number of fields")
	}
	if parts[1] != variant {
		return bad("not " + variant)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version")
	}
	var seen [3]bool
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return bad("bad parameter")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("bad parameter value")
		}
		switch k {
		case "m":
			if seen[0] {
				return bad("repeated parameter")
			}
			seen[0], p.Memory = true, uint32(n)
		case "t":
			if seen[1] {
				return bad("repeated parameter")
			}
			seen[1], p.Time = true, uint32(n)
		case "p":
			if seen[2] || n > 255 {
				return bad("bad parallelism")
			}
			seen[2], p.Threads = true, uint8(n)
		default:
			return bad("unknown parameter")
		}
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return bad("missing parameter")
	}
	if p.Threads < 1 || p.Time < 1 || p.Time > maxT || p.Memory > maxMem || p.Memory < 8*uint32(p.Threads) {
		return bad("parameters out of range")
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return bad("bad salt")
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return bad("bad hash")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// MeasureRawRate returns how many argon2id hashes per second this machine
// computes with p, running runtime.NumCPU() goroutines in parallel for about
// d, without any queueing. The load command compares measured sign-in rates
// to it.
func MeasureRawRate(p Params, d time.Duration) float64 {
	n := runtime.NumCPU()
	var count atomic.Int64
	var wg sync.WaitGroup
	salt := make([]byte, max(p.SaltLen, minSaltLen))
	start := time.Now()
	deadline := start.Add(d)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				argon2.IDKey([]byte("measure-raw-rate"), salt, p.Time, p.Memory, max(p.Threads, 1), max(p.KeyLen, minKeyLen))
				count.Add(1)
				if !time.Now().Before(deadline) {
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(count.Load()) / el
}
