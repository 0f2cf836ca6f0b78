package cognito_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
	"github.com/gatehouse-id/gatehouse/internal/token"
)

// BenchmarkHotPath measures the hash-free hot paths through the Cognito
// handler (InitiateAuth REFRESH_TOKEN_AUTH with rotation, and GetUser with
// an access token) on each database, in-process: the real middleware,
// handler, service and store (behind internal/store/poolcache, as
// cmd/gatehouse wires it) on an ES256 pool, called through ServeHTTP by 8
// concurrent callers, without sockets, so a profile shows Gatehouse's own
// costs. Each result carries the ratio to this machine's raw ES256 rate
// measured in the same run (token.MeasureRawRates, all CPUs): a refresh
// signs two tokens, so refresh/s ÷ (signs/s ÷ 2); a GetUser verifies
// one, so getuser/s ÷ verifies/s. For profiles:
//
//	go test -run '^$' -bench HotPath -benchmem -cpuprofile cpu.out ./internal/cognito
func BenchmarkHotPath(b *testing.B) {
	for _, db := range []testenv.DB{testenv.SQLite, testenv.Postgres} {
		b.Run(string(db), func(b *testing.B) {
			h := newHotEnv(b, db)
			b.Run("refresh", func(b *testing.B) {
				h.run(b, "refresh", func(w *hotWriter, st *hotState) {
					body := `{"ClientId":"` + h.clientID + `","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{"REFRESH_TOKEN":"` + st.refresh + `"}}`
					h.serve(b, w, "InitiateAuth", body)
					var out struct{ AuthenticationResult struct{ RefreshToken string } }
					if err := json.Unmarshal(w.buf.Bytes(), &out); err != nil {
						b.Fatal(err)
					}
					if rt := out.AuthenticationResult.RefreshToken; rt != "" { // a client that rotates
						st.refresh = rt
					}
				})
			})
			b.Run("getuser", func(b *testing.B) {
				h.run(b, "getuser", func(w *hotWriter, st *hotState) {
					h.serve(b, w, "GetUser", `{"AccessToken":"`+st.access+`"}`)
				})
			})
		})
	}
}

type hotEnv struct {
	stack    *testenv.Stack
	h        http.Handler
	clientID string
	users    []string
	next     atomic.Int64
}

func newHotEnv(b *testing.B, db testenv.DB) *hotEnv {
	var users []testenv.User
	for i := range 16 {
		users = append(users, testenv.User{Username: fmt.Sprintf("hot%d@example.com", i), Groups: []string{"staff"},
			Attributes: map[string]string{"given_name": "Hot", "family_name": fmt.Sprint(i)}})
	}
	s := testenv.New(b, testenv.Options{DB: db, PoolCache: true, Now: time.Now, Surfaces: testenv.Cognito,
		Pool: &auth.CreatePoolInput{Name: "hot", UsernameMode: identity.UsernameEmail, SigningAlg: token.AlgES256},
		Clients: []auth.CreateClientInput{{Name: "app",
			AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}},
		Groups: []string{"staff"}, Users: users})
	h := &hotEnv{stack: s, h: s.Server.Config.Handler, clientID: s.Client(0).ID}
	for _, u := range users {
		h.users = append(h.users, u.Username)
	}
	return h
}

// hotState is one caller's tokens.
type hotState struct{ refresh, access string }

func (h *hotEnv) signIn() *hotState {
	u := h.users[h.next.Add(1)%int64(len(h.users))]
	t := h.stack.SignIn(h.clientID, u, "")
	return &hotState{refresh: t.RefreshToken, access: t.AccessToken}
}

// run calls op from 8 concurrent callers (4 × GOMAXPROCS on this 2-core
// machine) and reports the ratio to the raw ES256 rate.
func (h *hotEnv) run(b *testing.B, name string, op func(w *hotWriter, st *hotState)) {
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		st := h.signIn()
		w := &hotWriter{hdr: http.Header{}}
		for pb.Next() {
			op(w, st)
		}
	})
	rate := float64(b.N) / time.Since(start).Seconds()
	b.StopTimer()
	raw, err := token.MeasureRawRates(token.AlgES256, 500*time.Millisecond)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(rate, "req/s")
	if name == "refresh" {
		b.ReportMetric(raw.Sign, "raw-signs/s")
		b.ReportMetric(rate/(raw.Sign/2), "ratio")
	} else {
		b.ReportMetric(raw.Verify, "raw-verifies/s")
		b.ReportMetric(rate/raw.Verify, "ratio")
	}
}

// serve sends one Cognito call through the handler and fails on anything
// but 200.
func (h *hotEnv) serve(b *testing.B, w *hotWriter, op, body string) {
	w.reset()
	r, err := http.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	h.h.ServeHTTP(w, r)
	if w.status != http.StatusOK {
		b.Fatalf("%s: %d %s", op, w.status, w.buf.String())
	}
}

// hotWriter is a reusable http.ResponseWriter.
type hotWriter struct {
	hdr    http.Header
	status int
	buf    bytes.Buffer
}

func (w *hotWriter) reset() {
	clear(w.hdr)
	w.status = 0
	w.buf.Reset()
}
func (w *hotWriter) Header() http.Header { return w.hdr }
func (w *hotWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *hotWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.buf.Write(p)
}
