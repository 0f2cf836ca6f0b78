package approval_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/approval"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/token"
)

// TestMeasureSignUpToApproverEmail is the measurement behind the figures
// in docs/benchmarks.md (run it with GATEHOUSE_MEASURE_APPROVAL=1; it is
// skipped otherwise, so it never slows the suite). For each of N
// applicants, concurrently: SignUp, read the code from the SMTP server,
// ConfirmSignUp, and wait until the approver's email reached the SMTP
// server. It reports, per backend, the latency from the start of SignUp
// and from the confirmation to the approver email being accepted by SMTP
// (p50, p99) and the throughput of whole flows. Password hashing uses
// cheap parameters: it measures the workflow, not argon2.
func TestMeasureSignUpToApproverEmail(t *testing.T) {
	if os.Getenv("GATEHOUSE_MEASURE_APPROVAL") != "1" {
		t.Skip("set GATEHOUSE_MEASURE_APPROVAL=1 to measure")
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { measure(t, b.open(t)) })
	}
}

func measure(t *testing.T, st store.Store) {
	const n, workers = 200, 8
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	smtpSrv := mailtest.StartServer(t)
	tpl, _ := mail.NewTemplates("")
	runner := jobs.NewRunner(st, jobs.Options{Worker: "bench", Poll: 20 * time.Millisecond, Concurrency: 8, Log: log})
	outbox := mail.NewOutbox(tpl, "no-reply@example.test", runner.Notify)
	key := make([]byte, token.MasterKeySize)
	_, _ = rand.Read(key)
	svc, err := auth.New(auth.Config{Store: st, Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 8),
		Tokens: token.NewManager(st, key, time.Now), Mail: outbox, BaseURL: "https://id.example.test", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	sender, _ := mail.NewSMTPSender(smtpSrv.SMTPConfig("no-reply@example.test"))
	runner.Register(mail.JobKind, mail.DeliveryHandler(st, sender, log))
	for _, k := range approval.JobKinds {
		runner.Register(k, svc.RegistrationJobHandler())
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = runner.Run(rctx); close(done) }()
	defer func() { cancel(); <-done }()

	p, err := svc.CreatePool(ctx, auth.CreatePoolInput{Name: "bench", UsernameMode: identity.UsernameEmail,
		Schema: []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}}})
	if err != nil {
		t.Fatal(err)
	}
	p.Settings.SignUp = identity.SignUpPolicy{Approval: &identity.ApprovalPolicy{}}
	if p, err = svc.UpdatePool(ctx, p); err != nil {
		t.Fatal(err)
	}
	cl, err := svc.CreateClient(ctx, auth.CreateClientInput{PoolID: p.ID, Name: "web", AuthFlows: []string{identity.FlowUserPassword}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := svc.CreateCompany(ctx, &identity.Company{PoolID: p.ID, Name: fmt.Sprintf("co%d", i),
			Approvers: []identity.Approver{{Email: fmt.Sprintf("boss%d@acme.example", i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	client := auth.Client{ID: cl.Client.ID}
	full := make([]time.Duration, n)
	fromVerify := make([]time.Duration, n)
	var wg sync.WaitGroup
	next := make(chan int)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				email := fmt.Sprintf("u%d@x.example", i)
				t0 := time.Now()
				if _, err := svc.SignUp(ctx, auth.SignUpInput{Client: client, Username: email, Password: pw,
					Attributes: map[string]string{"custom:company_name": fmt.Sprintf("co%d", i)}}); err != nil {
					t.Error(err)
					return
				}
				m, ok := smtpSrv.Next(email, 30*time.Second)
				if !ok {
					t.Errorf("no code for %s", email)
					return
				}
				t1 := time.Now()
				if err := svc.ConfirmSignUp(ctx, auth.ConfirmSignUpInput{Client: client, Username: email, Code: m.Code()}); err != nil {
					t.Error(err)
					return
				}
				if _, ok := smtpSrv.Next(fmt.Sprintf("boss%d@acme.example", i), 30*time.Second); !ok {
					t.Errorf("no approver email for %s", email)
					return
				}
				full[i], fromVerify[i] = time.Since(t0), time.Since(t1)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	pct := func(d []time.Duration, q float64) time.Duration {
		s := append([]time.Duration(nil), d...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[int(q*float64(len(s)-1))]
	}
	t.Logf("backend=%s n=%d workers=%d GOMAXPROCS=%d", st.Backend(), n, workers, runtime.GOMAXPROCS(0))
	t.Logf("sign-up -> approver email at SMTP: p50 %v p99 %v", pct(full, .5).Round(time.Millisecond), pct(full, .99).Round(time.Millisecond))
	t.Logf("verified -> approver email at SMTP: p50 %v p99 %v", pct(fromVerify, .5).Round(time.Millisecond), pct(fromVerify, .99).Round(time.Millisecond))
	t.Logf("throughput: %.1f complete flows/s (%v for %d)", float64(n)/elapsed.Seconds(), elapsed.Round(time.Millisecond), n)
}
