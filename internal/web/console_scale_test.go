package web_test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// oldest is the email of the oldest populated user i with i%m == r
// (every 50th is UNCONFIRMED, every 97th disabled).
func oldest(n, m, r int) string {
	i := n - 1
	for i%m != r {
		i--
	}
	return fmt.Sprintf("user%d@co%d.example.com", i, i/1000)
}

// TestScaleConsole (GATEHOUSE_TEST_SCALE=1; GATEHOUSE_TEST_SCALE_USERS,
// default 1,000,000) times the console's dashboard and user search, and
// the hosted sign-up's company type-ahead, over HTTP on the console test
// pool, then fills that pool with a million generated users and times
// them again; it logs both (docs/benchmarks.md). What it asserts is what
// the pages show at that size: every search answers 200 with the users it
// should, so a search that falls over at scale fails here; the time each
// takes is reported, never judged (the machine's load is not the code's).
func TestScaleConsole(t *testing.T) {
	n := testenv.ScaleUsers(t)
	if n == 0 {
		t.Skip("GATEHOUSE_TEST_SCALE=1 builds a pool of a million users")
	}
	e := consoleSetup(t)
	b := e.consoleLogin("root@example.org")
	if _, err := e.svc.CreateGroup(t.Context(), &identity.Group{PoolID: e.pool.ID, Name: "members"}); err != nil {
		t.Fatal(err)
	}
	k := n*7/10 + 345 // a user of the populated pool
	pages := []scalePage{
		{"dashboard", "console", "Sign-ups"},
		{"users, first page", "console/users", "user"},
		{"users, email ^= user1 (dense)", "console/users?email=user1", "user1"},
		{"users, email ^= one user's (narrow)", fmt.Sprintf("console/users?email=user%d", k), fmt.Sprintf("user%d@co%d.example.com", k, k/1000)},
		// In creation order the oldest come first: populate creates
		// user<i> i seconds before now.
		{"users, status UNCONFIRMED", "console/users?status=UNCONFIRMED", oldest(n, 50, 49)},
		{"users, status Disabled", "console/users?status=Disabled", oldest(n, 97, 96)},
		{"users, group members", "console/users?group=members", "user"},
		{"company type-ahead (hosted sign-up)", "signup/companies?prefix=Company+co12", ""},
	}
	measure := func() map[string][2]time.Duration { return timePages(t, e, b, pages) }
	small := measure()
	took := e.stack.Populate(n, "x")
	t.Logf("populated %d users in %s (%s)", n, took.Round(time.Second), e.stack.DB)
	big := measure()
	for _, p := range pages {
		if p.want == "" {
			continue
		}
		if r := b.get(e.page(p.path)); !strings.Contains(r.body, p.want) {
			t.Errorf("%s at %d users does not show %q", p.name, n, p.want)
		}
	}
	t.Log("\n" + pageTable(string(e.stack.DB)+", over HTTP", pages, big, small))
}

// TestScaleConsoleCompanyAdmin (GATEHOUSE_TEST_SCALE=1;
// GATEHOUSE_TEST_SCALE_COMPANIES companies, default 20,000, among
// GATEHOUSE_TEST_SCALE_USERS users, default 20,000) times a company
// admin's console pages over HTTP on the console test pool (carol approves
// for Acme), then fills the pool with that many generated companies and
// times them again; it logs both (docs/benchmarks.md). Every request of a
// company admin looks up the companies they approve for (ConsoleSignIn):
// through the approvers index (migration 0030) that read does not grow
// with the companies of the pool. What it asserts is what the pages show:
// Acme and none of the generated companies; the times are reported, never
// judged.
func TestScaleConsoleCompanyAdmin(t *testing.T) {
	if testenv.ScaleUsers(t) == 0 {
		t.Skip("GATEHOUSE_TEST_SCALE=1 fills a pool with 20,000 companies")
	}
	env := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: a positive number is wanted", name, v)
		}
		return n
	}
	users, companies := env("GATEHOUSE_TEST_SCALE_USERS", 20000), env("GATEHOUSE_TEST_SCALE_COMPANIES", 20000)
	e := consoleSetup(t)
	b := e.consoleLogin("carol@acme.example")
	pages := []scalePage{
		{"dashboard", "console", ""},
		{"requests", "console/registrations", ""},
		{"a request", "console/registrations/" + e.annReq, ""},
		{"companies", "console/companies", ""},
		{"the company", "console/companies/acme", ""},
	}
	measure := func() map[string][2]time.Duration { return timePages(t, e, b, pages) }
	small := measure()
	took := e.stack.PopulatePerCompany(users, max(1, users/companies), "x")
	t.Logf("populated %d users and %d companies in %s (%s)", users, users/max(1, users/companies), took.Round(time.Second), e.stack.DB)
	big := measure()
	r := b.get(e.page("console/companies"))
	if !strings.Contains(r.body, "Acme Corporation") || strings.Contains(r.body, "Company co1") {
		t.Errorf("carol's companies page at %d companies:\n%s", companies, r.body)
	}
	t.Log("\n" + pageTable(string(e.stack.DB)+", company admin, over HTTP", pages, big, small))
}

// scalePage is a console page the scale tests time: want, when set, is
// in its body at scale.
type scalePage struct{ name, path, want string }

// timePages gets each page 50 times through b and returns its p50 and p99
// by name.
func timePages(t *testing.T, e *consoleEnv, b *browser, pages []scalePage) map[string][2]time.Duration {
	t.Helper()
	const calls = 50
	out := map[string][2]time.Duration{}
	for _, p := range pages {
		d := make([]time.Duration, 0, calls)
		for range calls {
			t0 := time.Now()
			r := b.get(e.page(p.path))
			d = append(d, time.Since(t0))
			if r.status != http.StatusOK {
				t.Fatalf("%s: %d %s", p.name, r.status, r.body)
			}
		}
		slices.Sort(d)
		out[p.name] = [2]time.Duration{d[len(d)/2], d[len(d)*99/100]}
	}
	return out
}

// pageTable is the Markdown table of the pages' p50 and p99 at scale (big)
// and before populating (small), for docs/benchmarks.md.
func pageTable(title string, pages []scalePage, big, small map[string][2]time.Duration) string {
	var rep strings.Builder
	fmt.Fprintf(&rep, "| %s | p50 | p99 | before populate p50 | p99 |\n", title)
	for _, p := range pages {
		fmt.Fprintf(&rep, "| %s | %s | %s | %s | %s |\n", p.name, big[p.name][0].Round(10*time.Microsecond), big[p.name][1].Round(10*time.Microsecond),
			small[p.name][0].Round(10*time.Microsecond), small[p.name][1].Round(10*time.Microsecond))
	}
	return rep.String()
}
