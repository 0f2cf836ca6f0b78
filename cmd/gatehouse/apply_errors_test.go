package main

import (
	"strings"
	"testing"
)

// TestApplyYAMLErrorMessages: a mistake in an apply file names the file,
// the line and, for an unknown key, the section and the nearest valid key,
// in words a newcomer reads (not Go type names).
func TestApplyYAMLErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       []string // each a whole line of the error
	}{
		{"typo in sign_up", "pools:\n  - name: acme\n    sign_up:\n      company_attribute: custom:company_name\n      aproval: {on_deny: delete}\n",
			[]string{`gatehouse.yaml:5: unknown field "aproval" in sign_up (did you mean "approval"?)`}},
		{"typo at the top", "pool:\n  - name: acme\n",
			[]string{`gatehouse.yaml:1: unknown field "pool" (did you mean "pools"?)`}},
		{"typo in a client", "pools:\n  - name: acme\n    clients:\n      - name: web\n        generate_secrte: true\n",
			[]string{`gatehouse.yaml:5: unknown field "generate_secrte" in clients (did you mean "generate_secret"?)`}},
		{"typo in an approver", "pools:\n  - name: acme\n    companies:\n      - name: Acme\n        approvers: [{usr: a@acme.example}]\n",
			[]string{`gatehouse.yaml:5: unknown field "usr" in approvers (did you mean "user"?)`}},
		{"nothing near", "pools:\n  - name: acme\n    colour: red\n",
			[]string{`gatehouse.yaml:3: unknown field "colour" in pools`}},
		{"two mistakes", "pools:\n  - name: acme\n    regoin: eu-west-1\n    grups: []\n",
			[]string{`gatehouse.yaml:3: unknown field "regoin" in pools (did you mean "region"?)`,
				`gatehouse.yaml:4: unknown field "grups" in pools (did you mean "groups"?)`}},
		{"wrong type", "pools:\n  - name: acme\n    max_failed_attempts: many\n",
			[]string{`gatehouse.yaml:3: max_failed_attempts: "many" is not a number`}},
		{"bad duration", "pools:\n  - name: x\n    tokens: {refresh: forever}\n",
			[]string{`gatehouse.yaml:3: invalid duration "forever"`}},
		{"syntax", "pools:\n  - name: acme\n   clients: []\n",
			[]string{`gatehouse.yaml:1: did not find expected '-' indicator`}},
	}
	for _, tt := range tests {
		_, err := parseApplyFile("gatehouse.yaml", strings.NewReader(tt.yaml))
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		got := strings.Split(err.Error(), "\n")
		for _, w := range tt.want {
			found := false
			for _, g := range got {
				if strings.HasPrefix(g, w) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: error\n%s\nlacks the line\n%s", tt.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "main.") || strings.Contains(err.Error(), "!!str") {
			t.Errorf("%s: Go or YAML internals in %q", tt.name, err)
		}
	}
}

// TestApplyHelpNamesEverything: apply's help says what it applies.
func TestApplyHelpNamesEverything(t *testing.T) {
	t.Parallel()
	c := setup(t)
	out := c.ok("apply", "--help")
	assertContains(t, out, "companies", "sign-up polic", "hooks", "identity providers")
	if strings.Contains(out, "pools, app clients and groups declared") {
		t.Errorf("help still says only pools, app clients and groups:\n%s", out)
	}
}
