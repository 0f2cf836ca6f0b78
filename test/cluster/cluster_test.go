package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
)

// Bounds of the run (counts and times, not thresholds on speed).
const (
	loadDuration   = 16 * time.Second
	signUpWorkers  = 3
	confirmWorkers = 2
	refreshUsers   = 3
	lockoutUsers   = 2
	maxFailures    = 5
	wrongPerUser   = 24
	userPassword   = "Cluster-test-pw-9!Xq"
)

type cluster struct {
	t        *testing.T
	pg       *pgInstance
	nodes    []*node
	smtp     *mailtest.Server
	adminKey string
	ap       *approvalRun
	pool     string
	client   string
	tally    tally
}

// pick returns a node URL at random (a load balancer without health
// checks: requests to a dead node fail, as they would for a while).
func (c *cluster) pick() string { return c.nodes[mrand.IntN(len(c.nodes))].URL() }

// pickOther returns a node URL other than base.
func (c *cluster) pickOther(base string) string {
	for {
		if u := c.pick(); u != base {
			return u
		}
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestClusterUnderFaults is the scale-out test described in doc.go.
func TestClusterUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and three server processes; skipped with -short")
	}
	c := setupCluster(t)
	t.Logf("cluster: PostgreSQL on port %d, nodes %s %s %s, SMTP %s", c.pg.port, c.nodes[0].URL(), c.nodes[1].URL(), c.nodes[2].URL(), c.smtp.Addr)

	ctx, cancel := context.WithTimeout(t.Context(), loadDuration)
	defer cancel()
	var (
		wg, cwg   sync.WaitGroup
		mu        sync.Mutex
		accepted  = map[string]bool{} // sign-ups answered 2xx
		inDoubt   = map[string]bool{} // sign-ups answered 5xx or not at all
		confirmed = map[string]bool{} // confirmations answered 2xx
		redeemed  = map[string]int{}  // refresh token -> 2xx redemptions
		races     atomic.Int64        // same token sent to two nodes at once
		raceWins  atomic.Int64
		verified  = map[string]int{} // lockout user -> password checks
		meRefused atomic.Int64       // access token refused by another node
		confirmCh = make(chan string, 4096)
		seq       atomic.Int64
	)

	// Sign-ups, spread over the nodes.
	for w := 0; w < signUpWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				email := fmt.Sprintf("su-%d@cluster.test", seq.Add(1))
				a := call(ctx, c.pick(), "POST", "/api/v1/auth/sign-up", "", map[string]any{
					"client_id": c.client, "username": email, "password": userPassword,
					"attributes": map[string]string{"email": email},
				}, nil)
				if ctx.Err() != nil && !a.ok() {
					break // cut off by the end of the run, not by the cluster
				}
				c.tally.add("sign-up", a)
				mu.Lock()
				switch {
				case a.ok():
					accepted[email] = true
				case a.Status == 0 || a.Status >= 500:
					inDoubt[email] = true
				}
				mu.Unlock()
				if a.ok() {
					confirmCh <- email
				} else {
					time.Sleep(50 * time.Millisecond) // a client backs off too
				}
			}
		}()
	}

	// Confirmations: the code comes by email (sent by whichever node's job
	// runner delivered it) and is entered on another node.
	for w := 0; w < confirmWorkers; w++ {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for email := range confirmCh {
				msg, ok := c.smtp.Next(email, 45*time.Second)
				if !ok {
					continue // counted by the email check below
				}
				code := msg.Code()
				for attempt := 0; attempt < 40; attempt++ {
					a := call(t.Context(), c.pick(), "POST", "/api/v1/auth/confirm-sign-up", "", map[string]any{
						"client_id": c.client, "username": email, "code": code,
					}, nil)
					c.tally.add("confirm", a)
					if a.ok() {
						mu.Lock()
						confirmed[email] = true
						mu.Unlock()
						break
					}
					if a.Status != 0 && a.Status < 500 {
						break // e.g. the code was used by an attempt whose answer was lost
					}
					time.Sleep(250 * time.Millisecond)
				}
			}
		}()
	}

	// Sign-ins and refresh chains; now and then the same refresh token is
	// sent to two nodes at once.
	for i := 0; i < refreshUsers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("refresh-%d@cluster.test", i)
			rt := ""
			for n := 0; ctx.Err() == nil; n++ {
				if rt == "" {
					var tok struct {
						RefreshToken string `json:"refresh_token"`
					}
					a := call(ctx, c.pick(), "POST", "/api/v1/auth/sign-in", "", map[string]any{
						"client_id": c.client, "username": user, "password": userPassword,
					}, &tok)
					if ctx.Err() != nil && !a.ok() {
						break
					}
					c.tally.add("sign-in", a)
					if !a.ok() {
						time.Sleep(100 * time.Millisecond)
						continue
					}
					rt = tok.RefreshToken
					continue
				}
				type tokens struct {
					AccessToken  string `json:"access_token"`
					RefreshToken string `json:"refresh_token"`
				}
				if n%4 == 0 {
					first := c.pick()
					urls := []string{first, c.pickOther(first)}
					var outs [2]tokens
					var ans [2]answer
					var rw sync.WaitGroup
					for k := range urls {
						rw.Add(1)
						go func() {
							defer rw.Done()
							ans[k] = call(ctx, urls[k], "POST", "/api/v1/auth/refresh", "", map[string]any{
								"client_id": c.client, "refresh_token": rt,
							}, &outs[k])
						}()
					}
					rw.Wait()
					races.Add(1)
					next := ""
					for k := range ans {
						c.tally.add("refresh-race", ans[k])
						if ans[k].ok() {
							raceWins.Add(1)
							mu.Lock()
							redeemed[rt]++
							mu.Unlock()
							next = outs[k].RefreshToken
						}
					}
					rt = next // "" (sign in again) unless one won
					continue
				}
				var tok tokens
				a := call(ctx, c.pick(), "POST", "/api/v1/auth/refresh", "", map[string]any{
					"client_id": c.client, "refresh_token": rt,
				}, &tok)
				if ctx.Err() != nil && !a.ok() {
					break
				}
				c.tally.add("refresh", a)
				if !a.ok() {
					rt = "" // in doubt: start a new chain
					continue
				}
				mu.Lock()
				redeemed[rt]++
				mu.Unlock()
				rt = tok.RefreshToken
				// The new access token works on any node.
				me := call(ctx, c.pick(), "GET", "/api/v1/me", tok.AccessToken, nil, nil)
				if ctx.Err() == nil || me.ok() {
					c.tally.add("me", me)
				}
				if me.Status == 401 {
					meRefused.Add(1)
				}
			}
		}()
	}

	// Wrong passwords spread over the nodes, two at a time per user.
	for i := 0; i < lockoutUsers; i++ {
		user := fmt.Sprintf("lockout-%d@cluster.test", i)
		for k := 0; k < 2; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; n < wrongPerUser/2 && ctx.Err() == nil; n++ {
					a := call(ctx, c.pick(), "POST", "/api/v1/auth/sign-in", "", map[string]any{
						"client_id": c.client, "username": user, "password": "wrong-" + randHex(4),
					}, nil)
					c.tally.add("wrong-password", a)
					if a.Message == "Incorrect username or password." {
						mu.Lock()
						verified[user]++
						mu.Unlock()
					}
					time.Sleep(time.Duration(300+mrand.IntN(300)) * time.Millisecond)
				}
			}()
		}
	}

	c.approvalLoad(ctx, c.ap, &wg, &cwg)

	// Faults.
	var faults []string
	// fault runs f at its time in the run. A fault the run ended before is
	// skipped; a recovery (a restart) always runs, late if need be: on a
	// loaded machine an earlier restart can outlast the run, and a node
	// left dead would fail the checks below for no fault of the code.
	fault := func(at time.Duration, what string, f func()) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(start(ctx).Add(at))):
		}
		f()
		faults = append(faults, fmt.Sprintf("%5.1fs %s", at.Seconds(), what))
	}
	recovery := func(at time.Duration, what string, f func()) {
		select {
		case <-ctx.Done():
			what += " (late: the run had ended)"
		case <-time.After(time.Until(start(ctx).Add(at))):
		}
		f()
		faults = append(faults, fmt.Sprintf("%5.1fs %s", at.Seconds(), what))
	}
	fault(3*time.Second, "SIGKILL node 2", c.nodes[1].kill)
	recovery(4500*time.Millisecond, "restart node 2", c.nodes[1].start)
	fault(7*time.Second, "crash PostgreSQL (pg_ctl stop -m immediate)", func() {
		c.pg.crash()
		// Every live node says it is not ready while the database is gone.
		for _, n := range c.nodes {
			if a := call(t.Context(), n.URL(), "GET", "/readyz", "", nil, nil); a.Status != 503 {
				t.Errorf("%s /readyz with PostgreSQL down: %s", n.name, a.key())
			}
		}
	})
	recovery(8500*time.Millisecond, "start PostgreSQL; every node ready again by itself", func() {
		c.pg.start()
		for _, n := range c.nodes {
			if err := waitReady(n.URL(), nil, 30*time.Second); err != nil {
				t.Errorf("%s did not recover: %v", n.name, err)
			}
		}
	})
	fault(11*time.Second, "SIGKILL node 3", c.nodes[2].kill)
	fault(12*time.Second, "SIGKILL node 1", c.nodes[0].kill)
	recovery(13*time.Second, "restart node 3", c.nodes[2].start)
	recovery(13500*time.Millisecond, "restart node 1", c.nodes[0].start)

	wg.Wait()
	close(confirmCh)
	cwg.Wait()
	t.Logf("faults:\n  %s", strings.Join(faults, "\n  "))

	// Let the job runners finish: retries scheduled during the outage are
	// made due now (the test does not wait out the backoff); jobs due
	// within the reminder interval run; later ones (expiry) stay.
	db := c.pg.open(c.pg.database)
	defer db.Close()
	drainDeadline := time.Now().Add(60 * time.Second)
	for {
		_, _ = db.Exec(`UPDATE jobs SET run_at = 0 WHERE state = 'pending' AND attempts > 0`)
		var open int
		soon := time.Now().Add(reminderInterval + time.Second).UnixMilli()
		if err := db.QueryRow(`SELECT COUNT(*) FROM jobs WHERE state = 'running' OR (state = 'pending' AND run_at < $1)`, soon).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			break
		}
		if time.Now().After(drainDeadline) {
			t.Fatalf("%d jobs still pending or running after 60s", open)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Invariant: every accepted sign-up is there exactly once; a sign-up
	// whose answer was lost is there at most once.
	for email := range accepted {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM users WHERE pool_id = $1 AND username = $2`, c.pool, email).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("accepted sign-up %s: %d rows", email, n)
		}
	}
	inDoubtStored := 0
	for email := range inDoubt {
		var n int
		_ = db.QueryRow(`SELECT COUNT(*) FROM users WHERE pool_id = $1 AND username = $2`, c.pool, email).Scan(&n)
		if n > 1 {
			t.Errorf("sign-up %s: %d rows", email, n)
		}
		inDoubtStored += n
	}

	// Invariant: every accepted confirmation is applied.
	for email := range confirmed {
		var status string
		if err := db.QueryRow(`SELECT status FROM users WHERE pool_id = $1 AND username = $2`, c.pool, email).Scan(&status); err != nil {
			t.Fatalf("%s: %v", email, err)
		}
		if status != "CONFIRMED" {
			t.Errorf("confirmed %s has status %s", email, status)
		}
	}

	// Invariant: every accepted sign-up got its code at least once;
	// duplicates (a node killed between the SMTP relay's accept and the
	// job's completion) are counted.
	missing, dups := 0, 0
	for email := range accepted {
		switch m := len(c.smtp.MessagesTo(email)); {
		case m == 0:
			missing++
			t.Errorf("no email reached %s", email)
		case m > 1:
			dups += m - 1
		}
	}
	var dead, unsent, done, again int
	_ = db.QueryRow(`SELECT COUNT(*) FILTER (WHERE state = 'dead'), COUNT(*) FILTER (WHERE state = 'done'), COUNT(*) FILTER (WHERE attempts > 1) FROM jobs`).Scan(&dead, &done, &again)
	_ = db.QueryRow(`SELECT COUNT(*) FROM emails WHERE status <> 'sent'`).Scan(&unsent)
	if dead != 0 || unsent != 0 {
		t.Errorf("jobs dead: %d, emails not sent: %d", dead, unsent)
	}

	// Invariant: no refresh token redeemed twice.
	twice := 0
	for _, n := range redeemed {
		if n > 1 {
			twice++
		}
	}
	if twice != 0 {
		t.Errorf("%d refresh tokens were redeemed more than once", twice)
	}
	if meRefused.Load() != 0 {
		t.Errorf("%d fresh access tokens refused by another node", meRefused.Load())
	}

	// Invariant: lockout held across nodes.
	for i := 0; i < lockoutUsers; i++ {
		user := fmt.Sprintf("lockout-%d@cluster.test", i)
		if verified[user] > maxFailures {
			t.Errorf("%s: %d wrong passwords were checked across the nodes; the pool allows %d", user, verified[user], maxFailures)
		}
		a := call(t.Context(), c.pick(), "POST", "/api/v1/auth/sign-in", "", map[string]any{
			"client_id": c.client, "username": user, "password": userPassword,
		}, nil)
		if a.ok() || a.Message != "Password attempts exceeded" {
			t.Errorf("%s: right password during the lockout: %s %q", user, a.key(), a.Message)
		}
	}

	// Invariant: an outage is a 503, not a 500 (on the API; the HTML
	// approval pages are reported, see below).
	if n := c.tally.countAll("500", "ap-approve", "ap-deny"); n != 0 {
		t.Errorf("%d API answers were 500 internal", n)
	}
	if n := c.tally.countAll("500", "sign-up", "confirm", "sign-in", "refresh", "refresh-race", "me", "wrong-password", "ap-sign-up", "ap-verify"); n != 0 {
		t.Logf("NOTE: the approval pages answered 500 (not 503) %d times while PostgreSQL was down", n)
	}
	if n := c.tally.countAll("503 unavailable (no Retry-After)"); n != 0 {
		t.Errorf("%d 503 answers lacked Retry-After", n)
	}

	apSummary := c.checkApproval(t, db, c.ap)
	c.checkPropagation(t)

	t.Logf("answers:\n%s", c.tally.String())
	t.Logf("sign-ups accepted %d (in doubt %d, of which stored %d), confirmed %d; emails: %d jobs done (%d run more than once: lease taken over or retried), %d duplicates, %d missing; refresh races %d (%d won, 0 allowed twice), tokens redeemed %d; lockout checks %v (limit %d)",
		len(accepted), len(inDoubt), inDoubtStored, len(confirmed), done, again, dups, missing, races.Load(), raceWins.Load(), len(redeemed), verified, maxFailures)
	t.Log(apSummary)
	if t.Failed() {
		for _, n := range c.nodes {
			t.Logf("%s errors:\n%s", n.name, n.errorLines())
		}
		t.Logf("PostgreSQL log tail:\n%s", c.pg.logTail())
	}
	for _, n := range c.nodes {
		n.stop()
	}
}

// start returns when the load began: the run's deadline minus its length.
func start(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d.Add(-loadDuration)
}

// setupCluster starts PostgreSQL, SMTP and three nodes, creates an admin
// key, a pool (lockout after maxFailures) with a client, and the users of
// the refresh and lockout workers.
func setupCluster(t *testing.T) *cluster {
	pg := startPostgres(t)
	bin := buildGatehouse(t)
	smtp := mailtest.StartServer(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "gatehouse.yaml")
	// Short job leases so work held by a killed node is taken over within
	// the run; a fast poll so emails go out quickly.
	cfg := "jobs:\n  poll: 200ms\n  lease: 3s\n  concurrency: 4\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"GATEHOUSE_DATABASE_URL=" + pg.DSN(pg.database),
		"GATEHOUSE_MASTER_KEY=" + randHex(32),
		"GATEHOUSE_BASE_URL=http://id.cluster.test",
		"GATEHOUSE_SMTP_HOST=127.0.0.1",
		fmt.Sprintf("GATEHOUSE_SMTP_PORT=%d", smtp.Port),
		"GATEHOUSE_SMTP_TLS=none",
		"GATEHOUSE_SMTP_FROM=noreply@cluster.test",
		"GATEHOUSE_ARGON2_MEMORY_KIB=64",
		"GATEHOUSE_ARGON2_TIME=1",
		"GATEHOUSE_SHUTDOWN_TIMEOUT=5s",
		"GATEHOUSE_LOG_LEVEL=info",
		// Far longer than the test: a node can only learn of another's key
		// rotation through the change notification.
		"GATEHOUSE_KEY_CACHE_TTL=1h",
		// The longest allowed: a node learns of another's change to a pool
		// or client through the change notification (checkPropagation
		// waits 30 s at most).
		"GATEHOUSE_POOL_CACHE_TTL=1m",
	}
	// The admin key, made by the CLI on the shared database.
	kc := exec.Command(bin, "keys", "create", "--name", "cluster-test", "--config", cfgPath)
	kc.Env = append(os.Environ(), env...)
	out, err := kc.CombinedOutput()
	if err != nil {
		t.Fatalf("gatehouse keys create: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`token \(shown once\): (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no token in: %s", out)
	}
	c := &cluster{t: t, pg: pg, smtp: smtp, adminKey: string(m[1])}
	for i := 1; i <= 3; i++ {
		c.nodes = append(c.nodes, &node{t: t, name: fmt.Sprintf("node%d", i), bin: bin, env: env,
			args: []string{"--config", cfgPath}, logDir: dir})
	}
	for _, n := range c.nodes {
		n.start()
		t.Cleanup(n.kill)
	}

	c.ap = c.setupApproval(t, bin, env, dir)
	ctx := t.Context()
	base := c.nodes[0].URL()
	var pool struct {
		ID string `json:"id"`
	}
	if a := call(ctx, base, "POST", "/api/v1/pools", c.adminKey, map[string]any{
		"name": "cluster", "max_failed_attempts": maxFailures, "lockout_duration_seconds": 3600,
	}, &pool); !a.ok() || pool.ID == "" {
		t.Fatalf("create pool: %s %s", a.key(), a.Body)
	}
	c.pool = pool.ID
	var cl struct {
		ID     string `json:"id"`
		Client *struct {
			ID string `json:"id"`
		} `json:"client"`
	}
	if a := call(ctx, c.nodes[1].URL(), "POST", "/api/v1/pools/"+url.PathEscape(c.pool)+"/clients", c.adminKey, map[string]any{
		"name": "cluster", "auth_flows": []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	}, &cl); !a.ok() {
		t.Fatalf("create client: %s %s", a.key(), a.Body)
	}
	c.client = cl.ID
	if cl.Client != nil && cl.Client.ID != "" {
		c.client = cl.Client.ID
	}
	var users []string
	for i := 0; i < refreshUsers; i++ {
		users = append(users, fmt.Sprintf("refresh-%d@cluster.test", i))
	}
	for i := 0; i < lockoutUsers; i++ {
		users = append(users, fmt.Sprintf("lockout-%d@cluster.test", i))
	}
	for i, u := range users {
		p := "/api/v1/pools/" + url.PathEscape(c.pool) + "/users"
		node := c.nodes[i%3].URL()
		if a := call(ctx, node, "POST", p, c.adminKey, map[string]any{
			"username": u, "attributes": map[string]string{"email": u, "email_verified": "true"}, "message_action": "SUPPRESS",
		}, nil); !a.ok() {
			t.Fatalf("create user %s: %s %s", u, a.key(), a.Body)
		}
		if a := call(ctx, node, "PUT", p+"/"+url.PathEscape(u)+"/password", c.adminKey, map[string]any{
			"password": userPassword, "permanent": true,
		}, nil); !a.ok() {
			t.Fatalf("set password %s: %s %s", u, a.key(), a.Body)
		}
	}
	return c
}

// checkPropagation: changes made on one node take effect on the others.
// Key rotation goes through LISTEN/NOTIFY (the nodes cache keys for an
// hour here); disabling a user and signing a user out are read from the
// database on every request.
func (c *cluster) checkPropagation(t *testing.T) {
	ctx := t.Context()
	pool := url.PathEscape(c.pool)
	jwks := func(n *node) string {
		a := call(ctx, n.URL(), "GET", "/"+pool+"/.well-known/jwks.json", "", nil, nil)
		if !a.ok() {
			t.Fatalf("%s jwks: %s", n.name, a.key())
		}
		return string(a.Body)
	}
	for _, n := range c.nodes {
		jwks(n) // every node has the keys cached now
	}
	if a := call(ctx, c.nodes[0].URL(), "POST", "/api/v1/pools/"+pool+"/keys/rotate", c.adminKey, map[string]any{}, nil); !a.ok() {
		t.Fatalf("rotate: %s %s", a.key(), a.Body)
	}
	want := jwks(c.nodes[0])
	for _, n := range c.nodes[1:] {
		deadline := time.Now().Add(30 * time.Second) // a bound on a hang; the cache TTL is 1h
		for jwks(n) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s still serves the keys from before the rotation on node1", n.name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	type tokens struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	signIn := func(n *node, user string) tokens {
		var tok tokens
		if a := call(ctx, n.URL(), "POST", "/api/v1/auth/sign-in", "", map[string]any{
			"client_id": c.client, "username": user, "password": userPassword,
		}, &tok); !a.ok() {
			t.Fatalf("sign in %s on %s: %s %s", user, n.name, a.key(), a.Body)
		}
		return tok
	}
	// Disable on node 1: node 2 refuses the access token, node 3 the
	// refresh token, on the very next request.
	for i, action := range []string{"disable", "sign-out"} {
		user := fmt.Sprintf("refresh-%d@cluster.test", i)
		tok := signIn(c.nodes[2], user)
		if a := call(ctx, c.nodes[1].URL(), "GET", "/api/v1/me", tok.AccessToken, nil, nil); !a.ok() {
			t.Fatalf("%s: /me before %s: %s", user, action, a.key())
		}
		// A sign-out refuses tokens issued before it, to the second.
		time.Sleep(1100 * time.Millisecond)
		if a := call(ctx, c.nodes[0].URL(), "POST", "/api/v1/pools/"+pool+"/users/"+url.PathEscape(user)+"/"+action, c.adminKey, map[string]any{}, nil); !a.ok() {
			t.Fatalf("%s %s: %s %s", action, user, a.key(), a.Body)
		}
		if a := call(ctx, c.nodes[1].URL(), "GET", "/api/v1/me", tok.AccessToken, nil, nil); a.ok() {
			t.Errorf("%s on node1: node2 still accepts the access token", action)
		}
		if a := call(ctx, c.nodes[2].URL(), "POST", "/api/v1/auth/refresh", "", map[string]any{
			"client_id": c.client, "refresh_token": tok.RefreshToken,
		}, nil); a.ok() {
			t.Errorf("%s on node1: node3 still accepts the refresh token", action)
		}
	}
	c.checkClientPropagation(t)
}

// checkClientPropagation: nodes cache pools and app clients
// (internal/store/poolcache; GATEHOUSE_POOL_CACHE_TTL is a minute here), so
// a client changed or deleted on node 1 holds on nodes 2 and 3 only
// through the change notification: a new access token validity is applied,
// and a deleted client's refresh token and sign-ins are refused.
func (c *cluster) checkClientPropagation(t *testing.T) {
	ctx := t.Context()
	pool := url.PathEscape(c.pool)
	var cl struct {
		ID     string `json:"id"`
		Client *struct {
			ID string `json:"id"`
		} `json:"client"`
	}
	if a := call(ctx, c.nodes[0].URL(), "POST", "/api/v1/pools/"+pool+"/clients", c.adminKey, map[string]any{
		"name": "propagation", "auth_flows": []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	}, &cl); !a.ok() {
		t.Fatalf("create client: %s %s", a.key(), a.Body)
	}
	client := cl.ID
	if cl.Client != nil && cl.Client.ID != "" {
		client = cl.Client.ID
	}
	type tokens struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
	}
	const user = "refresh-2@cluster.test"
	signIn := func(n *node) (tokens, answer) {
		var tok tokens
		a := call(ctx, n.URL(), "POST", "/api/v1/auth/sign-in", "", map[string]any{
			"client_id": client, "username": user, "password": userPassword,
		}, &tok)
		return tok, a
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second) // a bound on a hang; the cache TTL is 1m
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not seen on every node", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var held []tokens
	for _, n := range c.nodes { // every node has the client cached now
		tok, a := signIn(n)
		if !a.ok() || tok.ExpiresIn != 3600 {
			t.Fatalf("sign in on %s: %s %s (expires_in %d)", n.name, a.key(), a.Body, tok.ExpiresIn)
		}
		held = append(held, tok)
	}
	if a := call(ctx, c.nodes[0].URL(), "PATCH", "/api/v1/pools/"+pool+"/clients/"+url.PathEscape(client), c.adminKey, map[string]any{
		"token_lifetimes": map[string]any{"access_token_seconds": 600},
	}, nil); !a.ok() {
		t.Fatalf("update client: %s %s", a.key(), a.Body)
	}
	for _, n := range c.nodes[1:] {
		eventually("access token validity changed on node1 ("+n.name+")", func() bool {
			tok, a := signIn(n)
			return a.ok() && tok.ExpiresIn == 600
		})
	}
	if a := call(ctx, c.nodes[0].URL(), "DELETE", "/api/v1/pools/"+pool+"/clients/"+url.PathEscape(client), c.adminKey, nil, nil); !a.ok() {
		t.Fatalf("delete client: %s %s", a.key(), a.Body)
	}
	for i, n := range c.nodes[1:] {
		eventually("client deleted on node1 refuses sign-in on "+n.name, func() bool {
			_, a := signIn(n)
			return !a.ok()
		})
		if a := call(ctx, n.URL(), "POST", "/api/v1/auth/refresh", "", map[string]any{
			"client_id": client, "refresh_token": held[i+1].RefreshToken,
		}, nil); a.ok() {
			t.Errorf("client deleted on node1: %s still refreshes its token", n.name)
		}
	}
}
