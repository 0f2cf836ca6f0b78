package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/token"
)

// Run drives the server at opts.BaseURL through each phase for
// opts.Duration, measures this machine's raw argon2id rate with the same
// parameters, and writes progress, a report table and the ratios to out.
//
// Every loop stops at the phase duration or when ctx is done. Run returns an
// error for invalid options or a non-loopback target (before any request is
// sent), when setup (pool, client, users) fails, or when ctx ends early (the
// partial report is still written). Failed requests during a phase are
// counted by status in the report, not returned. What Run set up (the
// pool, or the client and pre-created users in a given pool) is deleted at
// the end, even after ctx is cancelled.
func Run(ctx context.Context, opts Options, out io.Writer) error {
	rep, err := measure(ctx, opts, out)
	if rep != nil {
		if werr := rep.write(out); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// report is everything one run measured.
type report struct {
	opts    Options
	poolID  string
	cpus    int
	phases  []*PhaseResult
	rawRate float64 // argon2id hashes/s with all cores; 0 if not measured
	rawTime time.Duration
	// sigRates: raw ES256 and RS256 sign/verify rates on all CPUs.
	sigRates []token.RawRates
}

func (r *report) phase(name string) *PhaseResult {
	for _, p := range r.phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// benchPassword is long and random enough for any password policy that
// counts length and blocks common passwords (NIST: no composition rules);
// the mixed classes satisfy pools that still require them.
func benchPassword(runID string) string { return "Bench-" + runID + "-pw-9!Xq" }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// measure does the work of Run and returns what it measured so far, also on
// error.
func measure(ctx context.Context, opts Options, out io.Writer) (*report, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	rep := &report{opts: o, cpus: runtime.NumCPU()}
	runID := randomHex(4)
	pw := benchPassword(runID)
	c := newAPIClient(o.BaseURL, o.AdminKey, o.Concurrency)
	c.accessKeyID, c.secretAccessKey = o.AccessKeyID, o.SecretAccessKey
	defer c.close()

	fmt.Fprintf(out, "gatehouse load run %s against %s: %d workers, %s per phase, %d CPUs shared by server and load\n",
		runID, c.base, o.Concurrency, o.Duration, rep.cpus)

	// Setup. Cleanup runs even if ctx is cancelled, under its own timeout.
	var cleanups []func(context.Context) error
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
		defer cancel()
		for i := len(cleanups) - 1; i >= 0; i-- {
			if err := cleanups[i](cctx); err != nil {
				fmt.Fprintf(out, "cleanup: %v\n", err)
			}
		}
	}()

	setupStart := time.Now()
	pool := o.PoolID
	if pool == "" {
		pool, err = c.createPool(ctx, "bench-"+runID, o.SigningAlg)
		if err != nil {
			return nil, fmt.Errorf("loadtest: create pool: %w", err)
		}
		cleanups = append(cleanups, func(ctx context.Context) error { return c.deletePool(ctx, pool) })
	}
	rep.poolID = pool
	clientID, err := c.createClient(ctx, pool, "bench-"+runID, false)
	if err != nil {
		return nil, fmt.Errorf("loadtest: create client in pool %s: %w", pool, err)
	}
	if o.PoolID != "" {
		cleanups = append(cleanups, func(ctx context.Context) error { return c.deleteClient(ctx, pool, clientID) })
	}

	var users []string
	if len(o.Phases) > 1 || !wants(o.Phases, PhaseSignUp) {
		users, err = createUsers(ctx, c, o, pool, runID, pw)
		if o.PoolID != "" && len(users) > 0 {
			created := users
			cleanups = append(cleanups, func(ctx context.Context) error {
				var errs []error
				for _, u := range created {
					if err := c.deleteUser(ctx, pool, u); err != nil {
						errs = append(errs, err)
					}
				}
				return errors.Join(errs...)
			})
		}
		if err != nil {
			return nil, fmt.Errorf("loadtest: create users in pool %s: %w", pool, err)
		}
	}
	fmt.Fprintf(out, "setup: pool %s, public client %s, %d users in %s\n", pool, clientID, len(users), time.Since(setupStart).Round(time.Millisecond))

	for _, name := range allPhases {
		if !wants(o.Phases, name) {
			continue
		}
		var res *PhaseResult
		switch name {
		case PhaseSignUp:
			res = runPhase(ctx, name, o, func(ctx context.Context, w int, rec *recorder) {
				signUpWorker(ctx, c, clientID, runID, pw, w, rec)
			})
			if o.PoolID != "" {
				fmt.Fprintf(out, "note: %d unconfirmed sign-up users named su-%s-*@example.com stay in pool %s\n", res.OK, runID, pool)
			}
		case PhaseSignIn:
			res = runPhase(ctx, name, o, func(ctx context.Context, w int, rec *recorder) {
				signInWorker(ctx, c, clientID, users, pw, w, o.Concurrency, rec)
			})
		case PhaseRefresh:
			start, err := signInWorkers(ctx, c, o, clientID, users, pw)
			if err != nil {
				return rep, err
			}
			res = runPhase(ctx, name, o, func(ctx context.Context, w int, rec *recorder) {
				refreshWorker(ctx, c, clientID, users[w%len(users)], pw, start[w].RefreshToken, rec)
			})
		case PhaseCognitoRefreshStatic:
			static, err := c.createClient(ctx, pool, "bench-"+runID+"-static", true)
			if err != nil {
				return rep, fmt.Errorf("loadtest: create a non-rotating client in pool %s: %w", pool, err)
			}
			if o.PoolID != "" {
				cleanups = append(cleanups, func(ctx context.Context) error { return c.deleteClient(ctx, pool, static) })
			}
			start, err := signInWorkers(ctx, c, o, static, users, pw)
			if err != nil {
				return rep, err
			}
			res = runPhase(ctx, name, o, cognitoPhase(name, c, pool, static, users, pw, start))
		default:
			start, err := signInWorkers(ctx, c, o, clientID, users, pw)
			if err != nil {
				return rep, err
			}
			res = runPhase(ctx, name, o, cognitoPhase(name, c, pool, clientID, users, pw, start))
		}
		rep.phases = append(rep.phases, res)
		fmt.Fprintf(out, "phase %-7s %8d ok %6d errors %10.1f/s\n", name, res.OK, res.ErrorCount(), res.Throughput)
		if err := ctx.Err(); err != nil {
			return rep, err
		}
	}

	// The raw rate is measured after the phases, so the server is idle and
	// the hashing has the machine to itself.
	// Only when a phase hashes: the hash-free phases compare with the
	// signature rates instead.
	if wants(o.Phases, PhaseSignUp) || wants(o.Phases, PhaseSignIn) {
		p := password.DefaultParams()
		p.Memory, p.Time, p.Threads = o.HashMemoryKiB, o.HashTime, o.HashThreads
		t0 := time.Now()
		rep.rawRate = password.MeasureRawRate(p, o.Duration)
		rep.rawTime = time.Since(t0)
	}
	// The raw signing and verifying rates, when a phase signs or verifies
	// without hashing.
	if len(o.Phases) > 2 || (!wants(o.Phases, PhaseSignUp) && !wants(o.Phases, PhaseSignIn)) {
		d := min(o.Duration, 3*time.Second)
		for _, alg := range []string{token.AlgES256, token.AlgRS256} {
			r, err := token.MeasureRawRates(alg, d)
			if err != nil {
				return rep, err
			}
			rep.sigRates = append(rep.sigRates, r)
		}
	}
	return rep, ctx.Err()
}

// signInWorkers signs each worker in once, before a phase's clock starts.
func signInWorkers(ctx context.Context, c *apiClient, o Options, clientID string, users []string, pw string) ([]*tokensResponse, error) {
	start := make([]*tokensResponse, o.Concurrency)
	for w := range start {
		t, err := c.signIn(ctx, clientID, users[w%len(users)], pw)
		if err != nil {
			return nil, fmt.Errorf("loadtest: sign in before a phase: %w", err)
		}
		if t.RefreshToken == "" {
			return nil, errors.New("loadtest: sign-in returned no refresh_token; is ALLOW_REFRESH_TOKEN_AUTH honoured?")
		}
		start[w] = t
	}
	return start, nil
}

func wants(phases []string, name string) bool {
	for _, p := range phases {
		if p == name {
			return true
		}
	}
	return false
}

// createUsers creates o.Users confirmed users with password pw, with
// o.Concurrency requests in flight. It returns the usernames created so far
// and the first error.
func createUsers(ctx context.Context, c *apiClient, o Options, pool, runID, pw string) ([]string, error) {
	names := make([]string, o.Users)
	done := make([]bool, o.Users)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= o.Users || ctx.Err() != nil {
					return
				}
				mu.Lock()
				failed := firstErr != nil
				mu.Unlock()
				if failed {
					return
				}
				name := fmt.Sprintf("bench-%s-%d@example.com", runID, i)
				names[i] = name
				if err := c.createUser(ctx, pool, name, pw); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("user %s: %w", name, err)
					}
					mu.Unlock()
					// A half-created user (created, password not set) is
					// still deleted by the cleanup.
				}
				done[i] = true
			}
		})
	}
	wg.Wait()
	var created []string
	for i, ok := range done {
		if ok {
			created = append(created, names[i])
		}
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return created, firstErr
}

// runPhase runs work on o.Concurrency goroutines until o.Duration passes or
// ctx ends, and merges their recorders.
func runPhase(ctx context.Context, name string, o Options, work func(ctx context.Context, w int, rec *recorder)) *PhaseResult {
	pctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	recs := make([]*recorder, o.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range o.Concurrency {
		rec := newRecorder()
		recs[w] = rec
		wg.Go(func() { work(pctx, w, rec) })
	}
	wg.Wait()
	return merge(name, time.Since(start), recs)
}

// timed runs call and records its outcome. A request cut short by the end
// of the phase is not counted. After a transport error (server down) it
// pauses briefly so a dead target does not turn the loop into a spin.
func timed(ctx context.Context, rec *recorder, call func() error) error {
	t0 := time.Now()
	err := call()
	d := time.Since(t0)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil {
		rec.success(d)
		return nil
	}
	rec.failure(err)
	var he *httpError
	if !errors.As(err, &he) {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	return err
}

func signUpWorker(ctx context.Context, c *apiClient, clientID, runID, pw string, w int, rec *recorder) {
	for n := 0; ctx.Err() == nil; n++ {
		email := fmt.Sprintf("su-%s-%d-%d@example.com", runID, w, n)
		_ = timed(ctx, rec, func() error {
			return c.do(ctx, "POST", "/api/v1/auth/sign-up", false,
				signUpRequest{ClientID: clientID, Username: email, Password: pw, Attributes: map[string]string{"email": email}}, nil)
		})
	}
}

func signInWorker(ctx context.Context, c *apiClient, clientID string, users []string, pw string, w, workers int, rec *recorder) {
	for n := 0; ctx.Err() == nil; n++ {
		u := users[(w+n*workers)%len(users)]
		_ = timed(ctx, rec, func() error {
			_, err := c.signIn(ctx, clientID, u, pw)
			return err
		})
	}
}

// refreshWorker chains refresh tokens through the native API.
func refreshWorker(ctx context.Context, c *apiClient, clientID, user, pw, token string, rec *recorder) {
	chainRefresh(ctx, c, clientID, user, pw, token, rec, func(token string) (string, error) {
		var t tokensResponse
		if err := c.do(ctx, "POST", "/api/v1/auth/refresh", false, refreshRequest{clientID, token}, &t); err != nil {
			return "", err
		}
		if t.AccessToken == "" {
			return "", errors.New("refresh answered 2xx without an access_token")
		}
		return t.RefreshToken, nil
	})
}

// chainRefresh runs refresh until the phase ends: each answer's refresh
// token (tokens rotate) is the next request's input. If a refresh fails the
// chain is broken, so the worker signs in again (that sign-in is not
// counted as a refresh) and carries on.
func chainRefresh(ctx context.Context, c *apiClient, clientID, user, pw, token string, rec *recorder, refresh func(token string) (string, error)) {
	for ctx.Err() == nil {
		var next string
		err := timed(ctx, rec, func() (err error) {
			next, err = refresh(token)
			return err
		})
		if err == nil {
			if next != "" {
				token = next
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		t, serr := c.signIn(ctx, clientID, user, pw)
		if serr != nil {
			if ctx.Err() == nil {
				rec.failureAs("re-sign-in "+errorKey(serr), fmt.Errorf("re-sign-in after a failed refresh: %w", serr))
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		token = t.RefreshToken
	}
}
