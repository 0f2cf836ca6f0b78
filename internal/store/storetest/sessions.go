package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// testSessions: the one-query reads of the token paths return what the
// separate reads return (user, attributes, pending email, groups in token
// order, revoked sign-in), in the user's pool only, inside a transaction
// too; a user with no groups has an empty list; unknown users and tokens
// are ErrNotFound.
func testSessions(t *testing.T, s store.Store) {
	c := ctx(t)
	p := mustPool(t, s, "eu-west-1_ses")
	other := mustPool(t, s, "eu-west-1_ses2")
	ann := newUser(p.ID, "ann")
	ann.Attributes = map[string]string{"given_name": "Ann", "custom:note": `quote " and, comma`}
	ann.PendingEmail = "new@example.com"
	noErr(t, "CreateUser", s.CreateUser(c, ann, false))
	bob := mustUser(t, s, p.ID, "bob")
	mustUser(t, s, other.ID, "ann")
	one, two := 1, 2
	for _, g := range []*identity.Group{
		{PoolID: p.ID, Name: "zeta", Precedence: &one},
		{PoolID: p.ID, Name: "alpha"},
		{PoolID: p.ID, Name: "beta", Precedence: &two},
		{PoolID: p.ID, Name: "gamma, with comma"},
	} {
		g.CreatedAt, g.UpdatedAt = t0, t0
		noErr(t, "CreateGroup", s.CreateGroup(c, g))
		noErr(t, "AddUserToGroup", s.AddUserToGroup(c, p.ID, ann.Sub, g.Name))
	}
	wantGroups := []string{"zeta", "beta", "alpha", "gamma, with comma"}
	noErr(t, "RevokeOrigin", s.RevokeOrigin(c, p.ID, ann.Sub, "o-revoked", t0, t0.Add(time.Hour)))

	check := func(q store.Querier, what, origin string, wantRevoked bool) {
		t.Helper()
		se, err := q.GetUserSession(c, p.ID, ann.Sub, origin)
		noErr(t, what, err)
		want, err := q.GetUser(c, p.ID, ann.Sub)
		noErr(t, "GetUser", err)
		if !reflect.DeepEqual(se.User, want) {
			t.Errorf("%s: user = %+v, want %+v", what, se.User, want)
		}
		if !reflect.DeepEqual(se.Groups, wantGroups) {
			t.Errorf("%s: groups = %q, want %q", what, se.Groups, wantGroups)
		}
		if se.OriginRevoked != wantRevoked {
			t.Errorf("%s: origin revoked = %v, want %v", what, se.OriginRevoked, wantRevoked)
		}
	}
	check(s, "no origin", "", false)
	check(s, "live origin", "o-live", false)
	check(s, "revoked origin", "o-revoked", true)
	noErr(t, "InTx", s.InTx(c, func(q store.Querier) error {
		check(q, "in tx", "o-revoked", true)
		return nil
	}))

	se, err := s.GetUserSession(c, p.ID, bob.Sub, "o-live")
	noErr(t, "GetUserSession bob", err)
	if se.Groups == nil || len(se.Groups) != 0 || se.OriginRevoked || se.User.Attributes != nil || se.User.PendingEmail != "" {
		t.Errorf("bob: %+v (user %+v)", se, se.User)
	}
	_, err = s.GetUserSession(c, other.ID, ann.Sub, "o-revoked")
	noErr(t, "other pool's ann", err) // same sub in another pool: its own user
	_, err = s.GetUserSession(c, p.ID, "sub-nobody", "")
	wantErr(t, "unknown user", err, store.ErrNotFound)

	rt := mustRefresh(t, s, p.ID, ann.Sub, "h-ann", "fam-ann")
	got, ses, err := s.GetRefreshSession(c, "h-ann")
	noErr(t, "GetRefreshSession", err)
	wantRT, err := s.GetRefreshToken(c, "h-ann")
	noErr(t, "GetRefreshToken", err)
	if !reflect.DeepEqual(got, wantRT) || got.Scope != rt.Scope {
		t.Errorf("token = %+v, want %+v", got, wantRT)
	}
	if ses.User.Sub != ann.Sub || !reflect.DeepEqual(ses.Groups, wantGroups) || ses.User.Attributes["custom:note"] != ann.Attributes["custom:note"] {
		t.Errorf("refresh session = %+v (user %+v)", ses, ses.User)
	}
	_, _, err = s.GetRefreshSession(c, "h-nobody")
	wantErr(t, "unknown token", err, store.ErrNotFound)
	if !ses.IdentitiesRead || ses.Identities != nil {
		t.Errorf("refresh session without links: read %v, %+v", ses.IdentitiesRead, ses.Identities)
	}

	// Linked identities come with a refresh's session, as
	// ListLinkedIdentities returns them.
	for i, l := range []*identity.LinkedIdentity{
		{ProviderName: "Google", Subject: "g-1", ProviderType: "Google", Issuer: "https://accounts.google.com"},
		{ProviderName: "Facebook", Subject: "f, \"1\"", ProviderType: "Facebook"},
		{ProviderName: "Acme", Subject: "a-1", ProviderType: "OIDC", Issuer: "https://idp.acme.test"},
	} {
		l.PoolID, l.UserSub, l.CreatedAt = p.ID, ann.Sub, t0.Add(time.Duration(i%2)*time.Minute)
		noErr(t, "CreateLinkedIdentity", s.CreateLinkedIdentity(c, l))
	}
	wantLinks, err := s.ListLinkedIdentities(c, p.ID, ann.Sub)
	noErr(t, "ListLinkedIdentities", err)
	_, ses, err = s.GetRefreshSession(c, "h-ann")
	noErr(t, "GetRefreshSession with links", err)
	if !ses.IdentitiesRead || !reflect.DeepEqual(ses.Identities, wantLinks) {
		t.Errorf("refresh session links = %+v, want %+v", ses.Identities, wantLinks)
	}

	// GetUserSessionMFA: the session plus the TOTP and email-code
	// factors, without secrets, in ListFactors' order.
	se, err = s.GetUserSessionMFA(c, p.ID, ann.Sub, "o-revoked")
	noErr(t, "GetUserSessionMFA without factors", err)
	if se.Factors != nil || !se.OriginRevoked || !reflect.DeepEqual(se.Groups, wantGroups) {
		t.Errorf("session without factors: %+v", se)
	}
	for i, f := range []*identity.Factor{
		{ID: "f-totp", Type: identity.FactorTOTP, Name: "phone", Secret: "sealed", Confirmed: true, Enabled: true, Preferred: true, LastStep: 7},
		{ID: "f-rec", Type: identity.FactorRecovery, Secret: "hash"},
		{ID: "f-email", Type: identity.FactorEmailOTP, Enabled: true},
		{ID: "f-new", Type: identity.FactorTOTP, Secret: "sealed2"},
	} {
		f.PoolID, f.Sub, f.CreatedAt = p.ID, ann.Sub, t0.Add(time.Duration(i%3)*time.Second)
		noErr(t, "InsertFactor", s.InsertFactor(c, f))
	}
	all, err := s.ListFactors(c, p.ID, ann.Sub, "")
	noErr(t, "ListFactors", err)
	var wantFactors []*identity.Factor
	for _, f := range all {
		if f.Type == identity.FactorTOTP || f.Type == identity.FactorEmailOTP {
			g := *f
			g.Secret, g.LastStep = "", 0
			wantFactors = append(wantFactors, &g)
		}
	}
	se, err = s.GetUserSessionMFA(c, p.ID, ann.Sub, "")
	noErr(t, "GetUserSessionMFA", err)
	if !reflect.DeepEqual(se.Factors, wantFactors) || se.OriginRevoked || se.User.Sub != ann.Sub {
		t.Errorf("session factors = %+v, want %+v", se.Factors, wantFactors)
	}
	_, err = s.GetUserSessionMFA(c, p.ID, "sub-nobody", "")
	wantErr(t, "GetUserSessionMFA unknown user", err, store.ErrNotFound)
}

// testRotateRefreshToken: of concurrent rotations of one token exactly one
// wins and inserts its successor; a used, revoked or unknown token rotates
// to nothing; inside a transaction a rotation commits or rolls back with it.
func testRotateRefreshToken(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_rot"
	mustPool(t, s, pool)
	u := mustUser(t, s, pool, "u")
	mustRefresh(t, s, pool, u.Sub, "parent", "fam")
	child := func(hash string) *identity.RefreshToken {
		return &identity.RefreshToken{Hash: hash, PoolID: pool, ClientID: "client", UserSub: u.Sub, FamilyID: "fam",
			OriginJTI: "jti-fam", Scope: "openid", AMR: "pwd otp mfa", AuthTime: t0, IssuedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(time.Hour)}
	}
	var mu sync.Mutex
	var winners []string
	race(50, func(i int) {
		h := fmt.Sprintf("child-%d", i)
		ok, err := s.RotateRefreshToken(c, "parent", child(h), t0.Add(time.Minute))
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("RotateRefreshToken: %v", err)
		}
		if ok {
			winners = append(winners, h)
		}
	})
	if len(winners) != 1 {
		t.Fatalf("winners = %v, want exactly one", winners)
	}
	parent, err := s.GetRefreshToken(c, "parent")
	noErr(t, "GetRefreshToken parent", err)
	if parent.ReplacedBy != winners[0] {
		t.Errorf("parent replaced by %q, want %q", parent.ReplacedBy, winners[0])
	}
	eqTime(t, "parent used_at", parent.UsedAt, t0.Add(time.Minute))
	for i := 0; i < 50; i++ {
		h := fmt.Sprintf("child-%d", i)
		got, err := s.GetRefreshToken(c, h)
		switch {
		case h == winners[0]:
			noErr(t, "GetRefreshToken winner", err)
			want := child(h)
			if got.FamilyID != want.FamilyID || got.Scope != want.Scope || got.AMR != want.AMR || got.OriginJTI != want.OriginJTI || got.ClientID != want.ClientID {
				t.Errorf("winner = %+v", got)
			}
			eqTime(t, "winner expires_at", got.ExpiresAt, want.ExpiresAt)
			eqTime(t, "winner auth_time", got.AuthTime, want.AuthTime)
			if !got.UsedAt.IsZero() || !got.RevokedAt.IsZero() {
				t.Errorf("winner used or revoked: %+v", got)
			}
		default:
			wantErr(t, "loser "+h, err, store.ErrNotFound)
		}
	}

	// Used (the parent), revoked and unknown tokens rotate to nothing.
	mustRefresh(t, s, pool, u.Sub, "revoked", "fam-r")
	noErr(t, "RevokeRefreshToken", s.RevokeRefreshToken(c, "revoked", t0))
	for _, h := range []string{"parent", "revoked", "unknown"} {
		ok, err := s.RotateRefreshToken(c, h, child("after-"+h), t0.Add(2*time.Minute))
		if ok || err != nil {
			t.Errorf("rotate %s = %v, %v; want false, nil", h, ok, err)
		}
		_, err = s.GetRefreshToken(c, "after-"+h)
		wantErr(t, "successor of "+h, err, store.ErrNotFound)
	}

	// In a transaction that rolls back: nothing kept.
	errBack := errors.New("roll back")
	err = s.InTx(c, func(q store.Querier) error {
		ok, err := q.RotateRefreshToken(c, winners[0], child("tx-child"), t0.Add(3*time.Minute))
		if !ok || err != nil {
			t.Errorf("rotate in tx = %v, %v", ok, err)
		}
		return errBack
	})
	wantErr(t, "InTx", err, errBack)
	w, err := s.GetRefreshToken(c, winners[0])
	noErr(t, "GetRefreshToken winner", err)
	if !w.UsedAt.IsZero() {
		t.Error("a rolled-back rotation was kept")
	}
	_, err = s.GetRefreshToken(c, "tx-child")
	wantErr(t, "rolled-back successor", err, store.ErrNotFound)
}
