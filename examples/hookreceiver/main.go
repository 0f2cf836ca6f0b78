// Command hookreceiver is a Gatehouse webhook receiver (docs/hooks.md): a
// pre_sign_up hook that refuses emails already taken, and a
// post_confirmation hook, each verifying the Standard Webhooks signature
// (webhook-id, webhook-timestamp, webhook-signature) and refusing replays:
// a delivery whose timestamp is outside the window is refused by
// hooks.VerifySignature, and one whose webhook-id was already accepted
// within the window is a duplicate, answered without running the handler
// again (retries of one event share their id).
//
//	HOOK_SECRET=ghs_... hookreceiver -addr 127.0.0.1:9000
//
// Gatehouse refuses hooks on loopback and private addresses unless the
// operator allows them: for this receiver on the same host, set
// hooks.allowed_networks: [127.0.0.1] in the server configuration.
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
)

// Receiver verifies deliveries and drops replays before calling Handle.
type Receiver struct {
	Secret string
	// Window is the signature tolerance and how long ids are remembered
	// (hooks.DefaultTolerance when 0).
	Window time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Handle answers one verified, first-seen event: the status and body.
	Handle func(event map[string]any) (int, any)

	mu   sync.Mutex
	seen map[string]time.Time // webhook-id -> when it may be forgotten
	last map[string][]byte    // webhook-id -> the answer given
}

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now, window := time.Now(), rc.Window
	if rc.Now != nil {
		now = rc.Now()
	}
	if window <= 0 {
		window = hooks.DefaultTolerance
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if err := hooks.VerifySignature(rc.Secret, r.Header, body, now, window); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	id := r.Header.Get(hooks.IDHeader)
	rc.mu.Lock()
	if rc.seen == nil {
		rc.seen, rc.last = map[string]time.Time{}, map[string][]byte{}
	}
	for k, until := range rc.seen { // forget ids whose signatures can no longer verify
		if now.After(until) {
			delete(rc.seen, k)
			delete(rc.last, k)
		}
	}
	if _, dup := rc.seen[id]; dup {
		answer := rc.last[id]
		rc.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
		return
	}
	// Timestamps may be up to window in the future: remember the id for
	// twice the window so no replay outlives the memory of it.
	rc.seen[id] = now.Add(2 * window)
	rc.mu.Unlock()

	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	status, answer := rc.Handle(ev)
	out, _ := json.Marshal(answer)
	if status >= 200 && status < 300 {
		rc.mu.Lock()
		rc.last[id] = out
		rc.mu.Unlock()
	} else {
		rc.mu.Lock()
		delete(rc.seen, id) // a refusal may be retried
		rc.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(out)
}

// preSignUp refuses emails in taken (the articles' duplicate-email check).
func preSignUp(taken func(email string) bool) func(map[string]any) (int, any) {
	return func(ev map[string]any) (int, any) {
		req, _ := ev["request"].(map[string]any)
		attrs, _ := req["userAttributes"].(map[string]any)
		email, _ := attrs["email"].(string)
		if taken(strings.ToLower(email)) {
			return http.StatusBadRequest, map[string]string{"errorMessage": "Email is already taken"}
		}
		return http.StatusOK, ev // accept, no changes
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	flag.Parse()
	secret := os.Getenv("HOOK_SECRET")
	if secret == "" {
		log.Fatal("HOOK_SECRET is required (the hook's secret, ghs_...)")
	}
	taken := map[string]bool{"taken@example.com": true}
	mux := http.NewServeMux()
	mux.Handle("POST /pre-sign-up", &Receiver{Secret: secret, Handle: preSignUp(func(e string) bool { return taken[e] })})
	mux.Handle("POST /post-confirmation", &Receiver{Secret: secret, Handle: func(ev map[string]any) (int, any) {
		log.Printf("confirmed: %v", ev["userName"]) // e.g. add the user to a group in your app
		return http.StatusOK, map[string]any{}
	}})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
