package identity

import (
	"context"
	"testing"
)

// TestNormalizeActor: every actor form ever recorded reads as the one
// form and its surface; rows written before via existed stay readable.
func TestNormalizeActor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ actor, via, who, wantVia string }{
		{"console:s1", "", "user:s1", ViaConsole},
		{"apikey:k1", "", "admin-key:k1", ViaAPI},
		{"sigv4:AKIA1", "", "admin-key:AKIA1", ViaCognito},
		{"approver:boss@acme.example", "", "approver-link:boss@acme.example", ViaEmailLink},
		{"approver-link:boss@acme.example", "", "approver-link:boss@acme.example", ViaEmailLink},
		{"cli", "", "cli", ViaCLI},
		{"system", "", "system", ViaSystem},
		{"", "", "system", ViaSystem},
		{"user:s1", "api", "user:s1", ViaAPI},
		{"user:s1", "", "user:s1", ""}, // an old company-admin row: the surface is unknown
		{"admin-key:k1", "cognito", "admin-key:k1", ViaCognito},
	} {
		who, via := NormalizeActor(tc.actor, tc.via)
		if who != tc.who || via != tc.wantVia {
			t.Errorf("NormalizeActor(%q, %q) = %q, %q; want %q, %q", tc.actor, tc.via, who, via, tc.who, tc.wantVia)
		}
	}
	// Recorded: the actor's own via, else the context's, else the ID's.
	ctx := WithVia(context.Background(), ViaAPI)
	for _, tc := range []struct {
		a        Actor
		who, via string
	}{
		{Actor{ID: "console:s1", Via: ViaConsole}, "user:s1", ViaConsole},
		{Actor{ID: "user:s1"}, "user:s1", ViaAPI},
		{Actor{ID: "approver:a@b.example", Via: ViaEmailLink, As: "user:s2"}, "user:s2", ViaEmailLink},
		{Actor{ID: "apikey:k"}, "admin-key:k", ViaAPI},
	} {
		if who, via := tc.a.Recorded(ctx); who != tc.who || via != tc.via {
			t.Errorf("%+v.Recorded = %q, %q; want %q, %q", tc.a, who, via, tc.who, tc.via)
		}
	}
	if who, via := (Actor{ID: "cli"}).Recorded(context.Background()); who != "cli" || via != ViaCLI {
		t.Errorf("cli: %q %q", who, via)
	}
}

// TestAuditActor: an explicit actor wins; else the request's user once
// SetUser named one; else "system" — from the slot's address. SetUser
// without a slot does nothing, and never changes ActorFrom (what the
// service authorizes).
func TestAuditActor(t *testing.T) {
	t.Parallel()
	bare := context.Background()
	SetUser(bare, "s0")
	if a := AuditActor(bare); a.ID != "system" {
		t.Fatalf("no slot: %+v", a)
	}
	ctx := WithUserSlot(WithVia(bare, ViaCognito), "192.0.2.7")
	if a := AuditActor(ctx); a.ID != "system" || a.IP != "192.0.2.7" {
		t.Fatalf("empty slot: %+v", a)
	}
	SetUser(ctx, "s1")
	if a := AuditActor(ctx); a.ID != "user:s1" || a.IP != "192.0.2.7" {
		t.Fatalf("filled slot: %+v", a)
	}
	if who, via := AuditActor(ctx).Recorded(ctx); who != "user:s1" || via != ViaCognito {
		t.Fatalf("recorded: %q %q", who, via)
	}
	if a := ActorFrom(ctx); a.ID != "system" {
		t.Fatalf("ActorFrom follows the slot: %+v", a)
	}
	explicit := WithActor(ctx, Actor{ID: "console:s2"})
	if a := AuditActor(explicit); a.ID != "console:s2" {
		t.Fatalf("explicit actor: %+v", a)
	}
}
