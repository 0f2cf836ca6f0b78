package approval_test

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/approval"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestTransitionTable(t *testing.T) {
	t.Parallel()
	const (
		aw = identity.RegAwaitingVerification
		pe = identity.RegPending
	)
	for _, tc := range []struct {
		from identity.RegistrationState
		ev   approval.Event
		to   identity.RegistrationState
		code identity.Code
	}{
		{aw, approval.EventVerified, pe, ""},
		{aw, approval.EventAutoApprove, identity.RegApproved, ""},
		{aw, approval.EventNoApprover, identity.RegNoApprover, ""},
		{aw, approval.EventExpire, identity.RegExpired, ""},
		{aw, approval.EventApprove, "", identity.CodeInvalidParameter}, // nobody decides before verification
		{aw, approval.EventDeny, "", identity.CodeInvalidParameter},
		{pe, approval.EventApprove, identity.RegApproved, ""},
		{pe, approval.EventDeny, identity.RegDenied, ""},
		{pe, approval.EventExpire, identity.RegExpired, ""},
		{pe, approval.EventVerified, "", identity.CodeInvalidParameter},
		{identity.RegApproved, approval.EventDeny, "", identity.CodeConflict},
		{identity.RegDenied, approval.EventApprove, "", identity.CodeConflict},
		{identity.RegExpired, approval.EventApprove, "", identity.CodeConflict},
		{identity.RegNoApprover, approval.EventExpire, "", identity.CodeConflict},
	} {
		to, err := approval.Next(tc.from, tc.ev)
		if to != tc.to || identity.ErrorCode(err) != tc.code {
			t.Errorf("Next(%s, %s) = %q, %v; want %q, %q", tc.from, tc.ev, to, err, tc.to, tc.code)
		}
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	raw, hash, err := approval.NewToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 43 || approval.HashToken(raw) != hash || strings.Contains(hash, raw) {
		t.Fatalf("token %q hash %q", raw, hash)
	}
	raw2, _, _ := approval.NewToken(rand.Reader)
	if raw2 == raw {
		t.Fatal("two tokens alike")
	}
	for _, bad := range []string{"", "a b", "../x", strings.Repeat("A", 200), "abc%2F"} {
		if approval.HashToken(bad) != "" {
			t.Errorf("HashToken(%q) accepted", bad)
		}
	}
	if _, _, err := approval.NewToken(bytes.NewReader(nil)); err == nil {
		t.Fatal("no error from an empty random source")
	}
	id, err := approval.NewRequestID(rand.Reader)
	if err != nil || !strings.HasPrefix(id, "reg_") || len(id) != 25 {
		t.Fatalf("id %q %v", id, err)
	}
}

func TestDeadlinesAndLinks(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	exp, rem := approval.Deadlines(nil, t0)
	if exp != t0.Add(7*24*time.Hour) || rem != t0.Add(48*time.Hour) {
		t.Fatalf("defaults: %v %v", exp, rem)
	}
	exp, rem = approval.Deadlines(&identity.ApprovalPolicy{Expiry: time.Hour, Reminder: -1}, t0)
	if exp != t0.Add(time.Hour) || !rem.IsZero() {
		t.Fatalf("custom: %v %v", exp, rem)
	}
	if _, rem = approval.Deadlines(&identity.ApprovalPolicy{Expiry: time.Hour}, t0); !rem.IsZero() {
		t.Fatal("a reminder after the expiry")
	}
	if got := approval.LinkURL("https://id.example.com/", "eu-west-1_X", "tok"); got != "https://id.example.com/eu-west-1_X/approval/tok" {
		t.Fatal(got)
	}
}
