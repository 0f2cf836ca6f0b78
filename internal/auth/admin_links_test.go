package auth

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// linkEnv: a pool with the OIDC provider "corp", native users ann and bob,
// and a federated user (EXTERNAL_PROVIDER) owning corp/up-fed, as its
// first sign-in would have created it.
func linkEnv(t *testing.T, e *adminEnv) (p *identity.Pool, ann, bob, fed *identity.User) {
	t.Helper()
	p = e.pool(func(in *CreatePoolInput) { in.UsernameMode = identity.UsernameEmail })
	var err error
	if p, err = e.s.SetIdentityProvider(e.ctx, p.ID, identity.IdentityProvider{Name: "corp", Type: identity.ProviderOIDC,
		Issuer: "https://op.example", ClientID: "gh"}, "s3cret"); err != nil {
		t.Fatal(err)
	}
	ann = e.user(p, "ann@example.com", nil)
	bob = e.user(p, "bob@example.com", nil)
	now := e.now()
	fed = &identity.User{PoolID: p.ID, Sub: "5b0c64f8-8c0e-4a57-9f0e-1f4d2c3b4a59", Username: "corp_up-fed",
		Status: identity.StatusExternalProvider, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := e.st.CreateUser(e.ctx, fed, false); err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateLinkedIdentity(e.ctx, &identity.LinkedIdentity{PoolID: p.ID, ProviderName: "corp",
		ProviderType: identity.ProviderOIDC, Subject: "up-fed", Issuer: "https://op.example", UserSub: fed.Sub, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return p, ann, bob, fed
}

func (e *adminEnv) links(p *identity.Pool, u *identity.User) []*identity.LinkedIdentity {
	e.t.Helper()
	l, err := e.st.ListLinkedIdentities(e.ctx, p.ID, u.Sub)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *adminEnv) holder(p *identity.Pool, provider, subject string) string {
	e.t.Helper()
	l, err := e.st.GetLinkedIdentity(e.ctx, p.ID, provider, subject)
	if err != nil {
		return ""
	}
	return l.UserSub
}

func countAction(actions []string, a string) int {
	n := 0
	for _, x := range actions {
		if x == a {
			n++
		}
	}
	return n
}

// TestAdminLinkProviderForUser: a link to a native user, idempotent for
// the same user, never moved to another user or taken from a federated
// user, refused for unknown providers and users, federated destinations,
// hostile subjects and past the per-user limit; nothing written on refusal.
func TestAdminLinkProviderForUser(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, ann, bob, fed := linkEnv(t, e)
		l, err := e.s.AdminLinkProviderForUser(e.ctx, LinkProviderInput{PoolID: p.ID, Username: "ann@example.com", Provider: "corp", Subject: "up-1"})
		if err != nil {
			t.Fatal(err)
		}
		if l.UserSub != ann.Sub || l.ProviderType != identity.ProviderOIDC || l.Issuer != "https://op.example" || l.Subject != "up-1" {
			t.Fatalf("link %+v", l)
		}
		if e.holder(p, "corp", "up-1") != ann.Sub {
			t.Fatal("link not stored")
		}
		// The same link again: no error, nothing new.
		if _, err := e.s.AdminLinkProviderForUser(e.ctx, LinkProviderInput{PoolID: p.ID, Username: ann.Sub, Provider: "corp", Subject: "up-1"}); err != nil {
			t.Fatalf("link again: %v", err)
		}
		if n := countAction(e.auditActions(p.ID), "admin.identity_linked"); n != 1 {
			t.Fatalf("%d admin.identity_linked events, want 1", n)
		}

		// Never moved to another user, never taken from a federated user.
		ie := admWantCode(t, func() error {
			_, err := e.s.AdminLinkProviderForUser(e.ctx, LinkProviderInput{PoolID: p.ID, Username: "bob@example.com", Provider: "corp", Subject: "up-1"})
			return err
		}(), identity.CodeConflict)
		if !strings.Contains(ie.Message, "ann@example.com") {
			t.Fatalf("conflict does not name the holder: %s", ie.Message)
		}
		_, err = e.s.AdminLinkProviderForUser(e.ctx, LinkProviderInput{PoolID: p.ID, Username: "bob@example.com", Provider: "corp", Subject: "up-fed"})
		admWantCode(t, err, identity.CodeConflict)
		if e.holder(p, "corp", "up-1") != ann.Sub || e.holder(p, "corp", "up-fed") != fed.Sub || len(e.links(p, bob)) != 0 {
			t.Fatal("a refused link changed a link")
		}

		for name, in := range map[string]LinkProviderInput{
			"unknown provider":      {Username: "bob@example.com", Provider: "nope", Subject: "up-2"},
			"provider Cognito":      {Username: "bob@example.com", Provider: ProviderCognito, Subject: "up-2"},
			"provider case":         {Username: "bob@example.com", Provider: "CORP", Subject: "up-2"},
			"federated destination": {Username: "corp_up-fed", Provider: "corp", Subject: "up-2"},
			"empty subject":         {Username: "bob@example.com", Provider: "corp", Subject: ""},
			"padded subject":        {Username: "bob@example.com", Provider: "corp", Subject: " up-2"},
			"control in subject":    {Username: "bob@example.com", Provider: "corp", Subject: "up\x002"},
			"newline in subject":    {Username: "bob@example.com", Provider: "corp", Subject: "up-2\n"},
			"invalid utf-8":         {Username: "bob@example.com", Provider: "corp", Subject: "up-\xff"},
			"long subject":          {Username: "bob@example.com", Provider: "corp", Subject: strings.Repeat("s", 256)},
		} {
			in.PoolID = p.ID
			_, err := e.s.AdminLinkProviderForUser(e.ctx, in)
			if identity.ErrorCode(err) != identity.CodeInvalidParameter {
				t.Errorf("%s: %v, want invalid_parameter", name, err)
			}
		}
		_, err = e.s.AdminLinkProviderForUser(e.ctx, LinkProviderInput{PoolID: p.ID, Username: "nobody@example.com", Provider: "corp", Subject: "up-2"})
		admWantCode(t, err, identity.CodeUserNotFound)
		_, err = e.s.AdminLinkProviderForUser(e.ctx, LinkProviderInput{PoolID: "us-east-1_nopenope1", Username: "bob@example.com", Provider: "corp", Subject: "up-2"})
		admWantCode(t, err, identity.CodeResourceNotFound)
		// Another pool's provider of the same name cannot reach this pool's users.
		p2 := e.pool(nil)
		if _, err := e.s.SetIdentityProvider(e.ctx, p2.ID, identity.IdentityProvider{Name: "corp", Type: identity.ProviderOIDC,
			Issuer: "https://op.example", ClientID: "gh"}, ""); err != nil {
			t.Fatal(err)
		}
		_, err = e.s.AdminLinkProviderForUser(e.ctx, LinkProviderInput{PoolID: p2.ID, Username: ann.Sub, Provider: "corp", Subject: "up-2"})
		admWantCode(t, err, identity.CodeUserNotFound)
		if len(e.links(p, bob)) != 0 || e.holder(p, "corp", "up-2") != "" || e.holder(p2, "corp", "up-2") != "" {
			t.Fatal("a refused link was written")
		}

		// A subject is matched exactly: "UP-1" is another identity.
		if _, err := e.s.AdminLinkProviderForUser(e.ctx, LinkProviderInput{PoolID: p.ID, Username: "bob@example.com", Provider: "corp", Subject: "UP-1"}); err != nil {
			t.Fatal(err)
		}
		// At most MaxLinkedIdentities per user.
		for i := 2; i <= MaxLinkedIdentities; i++ {
			if _, err := e.s.AdminLinkProviderForUser(e.ctx, LinkProviderInput{PoolID: p.ID, Username: "ann@example.com", Provider: "corp",
				Subject: "up-" + string(rune('0'+i))}); err != nil {
				t.Fatalf("link %d: %v", i, err)
			}
		}
		_, err = e.s.AdminLinkProviderForUser(e.ctx, LinkProviderInput{PoolID: p.ID, Username: "ann@example.com", Provider: "corp", Subject: "up-9"})
		admWantCode(t, err, identity.CodeLimitExceeded)
		got, err := e.s.AdminListLinkedIdentities(e.ctx, p.ID, "ann@example.com")
		if err != nil || len(got) != MaxLinkedIdentities || got[0].Subject != "up-1" {
			t.Fatalf("list: %d %v", len(got), err)
		}
	})
}

// TestAdminDisableProviderForUser: unlinking a native user's identity
// removes the link and ends the user's sessions; a link of another user
// (when a user is named), an unknown link, provider "Cognito" and a
// federated user's own identity (without DisableFederatedUser) are
// refused and change nothing; with DisableFederatedUser the federated
// user is disabled and keeps its link.
func TestAdminDisableProviderForUser(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, ann, _, fed := linkEnv(t, e)
		if _, err := e.s.AdminLinkProviderForUser(e.ctx, LinkProviderInput{PoolID: p.ID, Username: "ann@example.com", Provider: "corp", Subject: "up-1"}); err != nil {
			t.Fatal(err)
		}
		e.advance(time.Minute)

		_, err := e.s.AdminDisableProviderForUser(e.ctx, UnlinkProviderInput{PoolID: p.ID, Provider: "corp", Subject: "up-1", Username: "bob@example.com"})
		admWantCode(t, err, identity.CodeResourceNotFound)
		_, err = e.s.AdminDisableProviderForUser(e.ctx, UnlinkProviderInput{PoolID: p.ID, Provider: "corp", Subject: "up-2"})
		admWantCode(t, err, identity.CodeResourceNotFound)
		_, err = e.s.AdminDisableProviderForUser(e.ctx, UnlinkProviderInput{PoolID: p.ID, Provider: ProviderCognito, Subject: "ann@example.com"})
		admWantCode(t, err, identity.CodeInvalidParameter)
		_, err = e.s.AdminDisableProviderForUser(e.ctx, UnlinkProviderInput{PoolID: p.ID, Provider: "corp/../x", Subject: "up-1"})
		admWantCode(t, err, identity.CodeInvalidParameter)
		_, err = e.s.AdminDisableProviderForUser(e.ctx, UnlinkProviderInput{PoolID: p.ID, Provider: "corp", Subject: "up-fed"})
		admWantCode(t, err, identity.CodeInvalidParameter)
		if e.holder(p, "corp", "up-1") != ann.Sub || e.holder(p, "corp", "up-fed") != fed.Sub {
			t.Fatal("a refused unlink changed a link")
		}

		res, err := e.s.AdminDisableProviderForUser(e.ctx, UnlinkProviderInput{PoolID: p.ID, Provider: "corp", Subject: "up-1", Username: "ann@example.com"})
		if err != nil || res.Disabled || res.User.Sub != ann.Sub {
			t.Fatalf("unlink: %+v %v", res, err)
		}
		if e.holder(p, "corp", "up-1") != "" {
			t.Fatal("link still there")
		}
		cur, err := e.st.GetUser(e.ctx, p.ID, ann.Sub)
		if err != nil || !cur.Enabled || !cur.TokensValidAfter.Equal(e.now()) {
			t.Fatalf("after unlink: %+v %v (sessions not ended?)", cur, err)
		}
		_, err = e.s.AdminDisableProviderForUser(e.ctx, UnlinkProviderInput{PoolID: p.ID, Provider: "corp", Subject: "up-1"})
		admWantCode(t, err, identity.CodeResourceNotFound)

		// Cognito's semantics for a federated user's own identity.
		res, err = e.s.AdminDisableProviderForUser(e.ctx, UnlinkProviderInput{PoolID: p.ID, Provider: "corp", Subject: "up-fed", DisableFederatedUser: true})
		if err != nil || !res.Disabled || res.User.Sub != fed.Sub {
			t.Fatalf("disable federated: %+v %v", res, err)
		}
		if cur, _ := e.st.GetUser(e.ctx, p.ID, fed.Sub); cur == nil || cur.Enabled || e.holder(p, "corp", "up-fed") != fed.Sub {
			t.Fatalf("federated user after disable: %+v", cur)
		}
		acts := e.auditActions(p.ID)
		if countAction(acts, "admin.identity_unlinked") != 1 || countAction(acts, "admin.federated_user_disabled") != 1 {
			t.Fatalf("audit %v", acts)
		}
		// The identity is free again: it can be linked to bob.
		if _, err := e.s.AdminLinkProviderForUser(e.ctx, LinkProviderInput{PoolID: p.ID, Username: "bob@example.com", Provider: "corp", Subject: "up-1"}); err != nil {
			t.Fatalf("relink to bob: %v", err)
		}
	})
}

// Concurrent links of distinct identities to one user stop at
// MaxLinkedIdentities: the limit is checked under the user's row lock, so
// two transactions cannot both see four links and both insert a fifth.
func TestAdminLinkLimitUnderConcurrency(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, _, bob, _ := linkEnv(t, e)
		const tries = 3 * MaxLinkedIdentities
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, limited := 0, 0
		start := make(chan struct{})
		for i := 0; i < tries; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := e.s.AdminLinkProviderForUser(e.ctx, LinkProviderInput{PoolID: p.ID, Username: "bob@example.com",
					Provider: "corp", Subject: fmt.Sprintf("race-%d", i)})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case identity.ErrorCode(err) == identity.CodeLimitExceeded:
					limited++
				default:
					t.Errorf("link %d: %v", i, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if ok != MaxLinkedIdentities || limited != tries-MaxLinkedIdentities {
			t.Errorf("%d links made, %d refused at the limit; want %d and %d", ok, limited, MaxLinkedIdentities, tries-MaxLinkedIdentities)
		}
		if n := len(e.links(p, bob)); n != MaxLinkedIdentities {
			t.Errorf("bob holds %d links, want %d", n, MaxLinkedIdentities)
		}
	})
}
