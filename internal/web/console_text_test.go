package web_test

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleTextAndTables (issue 12): a read-only table or list does not
// carry an input's "(one a line)" instruction, notes show commands as code
// rather than literal backticks, and table cells never break a word in the
// middle ("syste m").
func TestConsoleTextAndTables(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	b := e.consoleLogin("root@example.org")
	th := regexp.MustCompile(`<th[^>]*>[^<]*one a line[^<]*</th>|<dt>[^<]*one a line[^<]*</dt>`)
	for _, p := range []string{"companies", "companies/acme", "clients", "policy", "hooks", "audit"} {
		r := must(t, b.get(e.console(p)), http.StatusOK)
		if m := th.FindString(r.body); m != "" {
			t.Errorf("%s: a read-only header says how to type: %s", p, m)
		}
		if strings.Contains(r.body, "`") {
			t.Errorf("%s: literal backticks on the page", p)
		}
	}
	policy := must(t, b.get(e.console("policy")), http.StatusOK)
	if !strings.Contains(policy.body, "<code>gatehouse apply</code>") {
		t.Errorf("the policy page's note does not show the command as code")
	}
	css, err := os.ReadFile("static/console.css")
	if err != nil {
		t.Fatal(err)
	}
	// Cells of long ids and key=value runs may break anywhere, but only
	// once they are wide enough for a word ("system" is never split).
	for _, rule := range regexp.MustCompile(`[^{}]*\{[^}]*anywhere[^}]*\}`).FindAll(css, -1) {
		if !regexp.MustCompile(`min-width:\s*([89]|\d\d)(\.\d+)?rem`).Match(rule) {
			t.Errorf("console.css breaks cells anywhere without a minimum width: %s", rule)
		}
	}
	if strings.Contains(string(css), "break-all") {
		t.Errorf("console.css lets table cells break inside words:\n%s", css)
	}
	style, err := os.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(style), "break-all") {
		t.Errorf("style.css breaks every word anywhere")
	}
}
