package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func testCodes(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_cod"
	mustPool(t, s, pool)
	u := mustUser(t, s, pool, "u")
	put := func(hash string, expires time.Time) {
		t.Helper()
		noErr(t, "PutCode", s.PutCode(c, &identity.OneTimeCode{PoolID: pool, UserSub: u.Sub,
			Purpose: identity.PurposeSignUp, Hash: hash, ExpiresAt: expires, CreatedAt: t0}))
	}
	use := func(hash string, now time.Time, max int) store.CodeOutcome {
		t.Helper()
		out, err := s.UseCode(c, pool, u.Sub, identity.PurposeSignUp, hash, now, max)
		noErr(t, "UseCode", err)
		return out
	}
	expect := func(what string, got, want store.CodeOutcome) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: outcome %d, want %d", what, got, want)
		}
	}
	exp := t0.Add(time.Hour)

	expect("no code", use("h", t0, 3), store.CodeMissing)
	put("h1", exp)
	expect("wrong purpose", func() store.CodeOutcome {
		out, err := s.UseCode(c, pool, u.Sub, identity.PurposeForgot, "h1", t0, 3)
		noErr(t, "UseCode", err)
		return out
	}(), store.CodeMissing)
	expect("mismatch 1", use("bad", t0, 3), store.CodeMismatch)
	expect("mismatch 2", use("bad", t0, 3), store.CodeMismatch)
	expect("match", use("h1", t0, 3), store.CodeOK)
	expect("used twice", use("h1", t0, 3), store.CodeMissing)

	// Exhausted: after maxAttempts mismatches even the right code fails.
	put("h2", exp)
	for i := 0; i < 3; i++ {
		expect("mismatch", use("bad", t0, 3), store.CodeMismatch)
	}
	expect("exhausted", use("h2", t0, 3), store.CodeExhausted)
	expect("exhausted wrong", use("bad", t0, 3), store.CodeExhausted)

	// PutCode replaces the code and its attempts.
	put("h3", exp)
	expect("old code after replace", use("h2", t0, 3), store.CodeMismatch)
	expect("new code", use("h3", t0, 3), store.CodeOK)

	// Expiry: valid one millisecond before, expired at the instant.
	put("h4", exp)
	expect("expired", use("h4", exp, 3), store.CodeExpired)
	expect("expired stays", use("h4", exp.Add(time.Hour), 3), store.CodeExpired)
	expect("just before expiry", use("h4", exp.Add(-time.Millisecond), 3), store.CodeOK)

	// Codes of other purposes are separate; DeleteCodes removes them all.
	put("h5", exp)
	noErr(t, "PutCode forgot", s.PutCode(c, &identity.OneTimeCode{PoolID: pool, UserSub: u.Sub,
		Purpose: identity.PurposeForgot, Hash: "f1", ExpiresAt: exp}))
	noErr(t, "DeleteCodes", s.DeleteCodes(c, pool, u.Sub))
	expect("after DeleteCodes", use("h5", t0, 3), store.CodeMissing)
	out, err := s.UseCode(c, pool, u.Sub, identity.PurposeForgot, "f1", t0, 3)
	noErr(t, "UseCode", err)
	expect("forgot after DeleteCodes", out, store.CodeMissing)

	wantErr(t, "PutCode for missing user", s.PutCode(c, &identity.OneTimeCode{PoolID: pool, UserSub: "nope",
		Purpose: identity.PurposeSignUp, Hash: "x", ExpiresAt: exp}), store.ErrNotFound)
	// Codes go with their user.
	put("h6", exp)
	noErr(t, "DeleteUser", s.DeleteUser(c, pool, u.Sub))
	noErr(t, "CreateUser again", s.CreateUser(c, newUser(pool, "u"), false))
	expect("code of deleted user", use("h6", t0, 3), store.CodeMissing)
}

func mustRefresh(t *testing.T, s store.Store, pool, sub, hash, family string) *identity.RefreshToken {
	t.Helper()
	rt := &identity.RefreshToken{Hash: hash, PoolID: pool, ClientID: "client", UserSub: sub, FamilyID: family,
		OriginJTI: "jti-" + family, Scope: "openid email", AMR: "pwd", AuthTime: t0, IssuedAt: t0.Add(time.Second), ExpiresAt: t0.Add(30 * 24 * time.Hour)}
	noErr(t, "InsertRefreshToken", s.InsertRefreshToken(ctx(t), rt))
	return rt
}

func testRefreshTokens(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_rt"
	mustPool(t, s, pool)
	u := mustUser(t, s, pool, "u")
	v := mustUser(t, s, pool, "v")
	a := mustRefresh(t, s, pool, u.Sub, "hash-a", "fam1")
	wantErr(t, "InsertRefreshToken duplicate", s.InsertRefreshToken(c, a), store.ErrConflict)
	orphan := *a
	orphan.Hash, orphan.UserSub = "hash-orphan", "nope"
	wantErr(t, "InsertRefreshToken missing user", s.InsertRefreshToken(c, &orphan), store.ErrNotFound)

	got, err := s.GetRefreshToken(c, "hash-a")
	noErr(t, "GetRefreshToken", err)
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("GetRefreshToken =\n%+v\nwant\n%+v", got, a)
	}
	_, err = s.GetRefreshToken(c, "nope")
	wantErr(t, "GetRefreshToken missing", err, store.ErrNotFound)
	// The granted scope is kept with the token (security.md T6), and a
	// token written without one (a node before migration 0009) reads back
	// "" (legacy: auth reissues aws.cognito.signin.user.admin).
	admin := *a
	admin.Hash, admin.FamilyID, admin.Scope = "hash-admin", "fam-admin", "aws.cognito.signin.user.admin"
	noErr(t, "InsertRefreshToken admin scope", s.InsertRefreshToken(c, &admin))
	got, err = s.GetRefreshToken(c, "hash-admin")
	noErr(t, "GetRefreshToken admin scope", err)
	if got.Scope != admin.Scope {
		t.Fatalf("Scope = %q, want %q", got.Scope, admin.Scope)
	}

	// Rotation: first mark wins, second reports false.
	now := t0.Add(time.Minute)
	ok, err := s.MarkRefreshTokenUsed(c, "hash-a", "hash-b", now)
	noErr(t, "MarkRefreshTokenUsed", err)
	if !ok {
		t.Fatal("first MarkRefreshTokenUsed = false")
	}
	ok, err = s.MarkRefreshTokenUsed(c, "hash-a", "hash-c", now)
	noErr(t, "MarkRefreshTokenUsed again", err)
	if ok {
		t.Fatal("second MarkRefreshTokenUsed = true")
	}
	got, _ = s.GetRefreshToken(c, "hash-a")
	eqTime(t, "UsedAt", got.UsedAt, now)
	if got.ReplacedBy != "hash-b" {
		t.Errorf("ReplacedBy = %q, want hash-b", got.ReplacedBy)
	}
	_, err = s.MarkRefreshTokenUsed(c, "nope", "x", now)
	wantErr(t, "MarkRefreshTokenUsed missing", err, store.ErrNotFound)

	// A revoked token cannot be marked used.
	b := mustRefresh(t, s, pool, u.Sub, "hash-b", "fam1")
	noErr(t, "RevokeRefreshToken", s.RevokeRefreshToken(c, b.Hash, now))
	noErr(t, "RevokeRefreshToken again", s.RevokeRefreshToken(c, b.Hash, now.Add(time.Hour)))
	got, _ = s.GetRefreshToken(c, b.Hash)
	eqTime(t, "RevokedAt keeps the first revocation", got.RevokedAt, now)
	ok, err = s.MarkRefreshTokenUsed(c, b.Hash, "x", now)
	noErr(t, "MarkRefreshTokenUsed revoked", err)
	if ok {
		t.Error("revoked token marked used")
	}
	wantErr(t, "RevokeRefreshToken missing", s.RevokeRefreshToken(c, "nope", now), store.ErrNotFound)

	// Family revocation touches that family only.
	mustRefresh(t, s, pool, u.Sub, "hash-c", "fam1")
	mustRefresh(t, s, pool, u.Sub, "hash-d", "fam2")
	mustRefresh(t, s, pool, v.Sub, "hash-e", "fam3")
	later := now.Add(time.Hour)
	noErr(t, "RevokeRefreshFamily", s.RevokeRefreshFamily(c, "fam1", later))
	noErr(t, "RevokeRefreshFamily unknown", s.RevokeRefreshFamily(c, "fam-none", later))
	for hash, want := range map[string]time.Time{"hash-a": later, "hash-b": now, "hash-c": later, "hash-d": {}, "hash-e": {}} {
		got, _ := s.GetRefreshToken(c, hash)
		eqTime(t, hash+" RevokedAt", got.RevokedAt, want)
	}
	// User revocation: every token of the user, not of others.
	noErr(t, "RevokeUserRefreshTokens", s.RevokeUserRefreshTokens(c, pool, u.Sub, later.Add(time.Hour)))
	got, _ = s.GetRefreshToken(c, "hash-d")
	eqTime(t, "hash-d RevokedAt", got.RevokedAt, later.Add(time.Hour))
	got, _ = s.GetRefreshToken(c, "hash-e")
	eqTime(t, "hash-e RevokedAt", got.RevokedAt, time.Time{})

	// Origin revocation: the tokens of that sign-in in that pool only.
	mustRefresh(t, s, pool, v.Sub, "hash-o1", "famo")
	mustRefresh(t, s, pool, v.Sub, "hash-o2", "famp")
	noErr(t, "RevokeRefreshOrigin", s.RevokeRefreshOrigin(c, pool, "jti-famo", later))
	noErr(t, "RevokeRefreshOrigin other pool", s.RevokeRefreshOrigin(c, "eu-west-1_none", "jti-famp", later))
	noErr(t, "RevokeRefreshOrigin empty", s.RevokeRefreshOrigin(c, pool, "", later))
	got, _ = s.GetRefreshToken(c, "hash-o1")
	eqTime(t, "hash-o1 RevokedAt", got.RevokedAt, later)
	got, _ = s.GetRefreshToken(c, "hash-o2")
	eqTime(t, "hash-o2 RevokedAt", got.RevokedAt, time.Time{})

	// Expired tokens are deleted before the cutoff only.
	mustRefresh(t, s, pool, v.Sub, "hash-long", "fam4")
	noErr(t, "InsertRefreshToken short", s.InsertRefreshToken(c, &identity.RefreshToken{Hash: "hash-short",
		PoolID: pool, UserSub: v.Sub, FamilyID: "fam5", ExpiresAt: t0.Add(time.Hour)}))
	n, err := s.DeleteExpiredRefreshTokens(c, t0.Add(time.Hour))
	noErr(t, "DeleteExpiredRefreshTokens at expiry", err)
	if n != 0 {
		t.Errorf("deleted %d tokens expiring exactly at the cutoff", n)
	}
	n, err = s.DeleteExpiredRefreshTokens(c, t0.Add(time.Hour+time.Millisecond))
	noErr(t, "DeleteExpiredRefreshTokens", err)
	if n != 1 {
		t.Errorf("deleted %d, want 1", n)
	}
	_, err = s.GetRefreshToken(c, "hash-short")
	wantErr(t, "expired token deleted", err, store.ErrNotFound)
	_, err = s.GetRefreshToken(c, "hash-long")
	noErr(t, "long-lived token kept", err)

	// Tokens go with their user.
	noErr(t, "DeleteUser", s.DeleteUser(c, pool, v.Sub))
	_, err = s.GetRefreshToken(c, "hash-e")
	wantErr(t, "token of deleted user", err, store.ErrNotFound)
}

func testSigningKeys(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_key"
	mustPool(t, s, pool)
	mustPool(t, s, "eu-west-1_ke2")
	k1 := &identity.SigningKey{PoolID: pool, KID: "k1", Alg: "ES256", PrivateKeyEnc: []byte{0, 1, 2, 255, 0},
		PublicJWK: []byte(`{"kty":"EC"}`), State: identity.KeyActive, CreatedAt: t0, ActivatedAt: t0}
	k2 := &identity.SigningKey{PoolID: pool, KID: "k2", Alg: "RS256", PrivateKeyEnc: []byte("sealed"),
		PublicJWK: []byte(`{"kty":"RSA"}`), State: identity.KeyNext, CreatedAt: t0.Add(time.Hour)}
	noErr(t, "InsertSigningKey", s.InsertSigningKey(c, k2))
	noErr(t, "InsertSigningKey", s.InsertSigningKey(c, k1))
	wantErr(t, "InsertSigningKey duplicate", s.InsertSigningKey(c, k1), store.ErrConflict)
	other := *k1
	other.PoolID = "eu-west-1_ke2"
	noErr(t, "same kid in another pool", s.InsertSigningKey(c, &other))
	missing := *k1
	missing.PoolID = "eu-west-1_none"
	wantErr(t, "InsertSigningKey missing pool", s.InsertSigningKey(c, &missing), store.ErrNotFound)

	keys, err := s.ListSigningKeys(c, pool)
	noErr(t, "ListSigningKeys", err)
	if !reflect.DeepEqual(keys, []*identity.SigningKey{k1, k2}) {
		t.Fatalf("ListSigningKeys =\n%+v\nwant\n%+v %+v", keys, k1, k2)
	}
	k1.State, k1.RetiredAt, k1.RemoveAfter = identity.KeyRetired, t0.Add(2*time.Hour), t0.Add(26*time.Hour)
	k2.State, k2.ActivatedAt = identity.KeyActive, t0.Add(2*time.Hour)
	noErr(t, "UpdateSigningKey", s.UpdateSigningKey(c, k1))
	noErr(t, "UpdateSigningKey", s.UpdateSigningKey(c, k2))
	keys, _ = s.ListSigningKeys(c, pool)
	if !reflect.DeepEqual(keys, []*identity.SigningKey{k1, k2}) {
		t.Fatalf("ListSigningKeys after update =\n%+v", keys)
	}
	wantErr(t, "UpdateSigningKey missing", s.UpdateSigningKey(c, &identity.SigningKey{PoolID: pool, KID: "nope"}), store.ErrNotFound)
	noErr(t, "DeleteSigningKey", s.DeleteSigningKey(c, pool, "k1"))
	wantErr(t, "DeleteSigningKey again", s.DeleteSigningKey(c, pool, "k1"), store.ErrNotFound)
	keys, _ = s.ListSigningKeys(c, pool)
	if len(keys) != 1 || keys[0].KID != "k2" {
		t.Errorf("after delete: %+v", keys)
	}
	keys, _ = s.ListSigningKeys(c, "eu-west-1_none")
	if len(keys) != 0 {
		t.Errorf("keys of unknown pool: %d", len(keys))
	}
}

func testAPIKeys(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_api"
	mustPool(t, s, pool)
	global := &identity.APIKey{ID: "ghk_global", Name: "ops", SecretHash: "h1", CreatedAt: t0}
	scoped := &identity.APIKey{ID: "ghk_scoped", PoolID: pool, Name: "pool admin", SecretHash: "h2", CreatedAt: t0.Add(time.Second)}
	noErr(t, "CreateAPIKey global", s.CreateAPIKey(c, global))
	noErr(t, "CreateAPIKey scoped", s.CreateAPIKey(c, scoped))
	wantErr(t, "CreateAPIKey duplicate", s.CreateAPIKey(c, global), store.ErrConflict)
	wantErr(t, "CreateAPIKey missing pool", s.CreateAPIKey(c, &identity.APIKey{ID: "ghk_x", PoolID: "eu-west-1_none", SecretHash: "h"}), store.ErrNotFound)

	got, err := s.GetAPIKey(c, "ghk_global")
	noErr(t, "GetAPIKey", err)
	if !reflect.DeepEqual(got, global) {
		t.Fatalf("GetAPIKey = %+v, want %+v", got, global)
	}
	_, err = s.GetAPIKey(c, "nope")
	wantErr(t, "GetAPIKey missing", err, store.ErrNotFound)

	all, err := s.ListAPIKeys(c, "")
	noErr(t, "ListAPIKeys all", err)
	if !reflect.DeepEqual(all, []*identity.APIKey{global, scoped}) {
		t.Errorf("ListAPIKeys all = %+v", all)
	}
	mine, err := s.ListAPIKeys(c, pool)
	noErr(t, "ListAPIKeys pool", err)
	if !reflect.DeepEqual(mine, []*identity.APIKey{scoped}) {
		t.Errorf("ListAPIKeys pool = %+v", mine)
	}

	noErr(t, "TouchAPIKey", s.TouchAPIKey(c, "ghk_global", t0.Add(time.Minute)))
	noErr(t, "RevokeAPIKey", s.RevokeAPIKey(c, "ghk_global", t0.Add(time.Hour)))
	noErr(t, "RevokeAPIKey again", s.RevokeAPIKey(c, "ghk_global", t0.Add(2*time.Hour)))
	got, _ = s.GetAPIKey(c, "ghk_global")
	eqTime(t, "LastUsedAt", got.LastUsedAt, t0.Add(time.Minute))
	eqTime(t, "RevokedAt", got.RevokedAt, t0.Add(time.Hour))
	wantErr(t, "TouchAPIKey missing", s.TouchAPIKey(c, "nope", t0), store.ErrNotFound)
	wantErr(t, "RevokeAPIKey missing", s.RevokeAPIKey(c, "nope", t0), store.ErrNotFound)
}

// DeleteExpiredRefreshTokens deletes in bounded batches, oldest first, and
// never a token expiring at or after the cutoff.
func testRefreshTokenPurgeBatch(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_rpb"
	mustPool(t, s, pool)
	u := mustUser(t, s, pool, "u")
	const expired = 1003
	noErr(t, "insert tokens", s.InTx(c, func(q store.Querier) error {
		for i := 0; i < expired+2; i++ {
			exp := t0.Add(time.Duration(i) * time.Second)
			if i >= expired {
				exp = t0.Add(time.Hour) // live at the cutoff
			}
			if err := q.InsertRefreshToken(c, &identity.RefreshToken{Hash: fmt.Sprintf("h-%04d", i), PoolID: pool,
				UserSub: u.Sub, FamilyID: fmt.Sprintf("f-%04d", i), ExpiresAt: exp}); err != nil {
				return err
			}
		}
		return nil
	}))
	cutoff := t0.Add(30 * time.Minute)
	n, err := s.DeleteExpiredRefreshTokens(c, cutoff)
	noErr(t, "DeleteExpiredRefreshTokens batch 1", err)
	if n != 1000 {
		t.Fatalf("first batch deleted %d, want 1000", n)
	}
	// Oldest first: the first 1000 are gone, the newest expired ones remain.
	if _, err := s.GetRefreshToken(c, "h-0999"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("h-0999 after batch 1: %v, want not found", err)
	}
	if _, err := s.GetRefreshToken(c, "h-1000"); err != nil {
		t.Errorf("h-1000 after batch 1: %v, want kept for the next batch", err)
	}
	n, err = s.DeleteExpiredRefreshTokens(c, cutoff)
	noErr(t, "DeleteExpiredRefreshTokens batch 2", err)
	if n != expired-1000 {
		t.Errorf("second batch deleted %d, want %d", n, expired-1000)
	}
	n, err = s.DeleteExpiredRefreshTokens(c, cutoff)
	noErr(t, "DeleteExpiredRefreshTokens batch 3", err)
	if n != 0 {
		t.Errorf("third batch deleted %d, want 0", n)
	}
	for i := expired; i < expired+2; i++ {
		if _, err := s.GetRefreshToken(c, fmt.Sprintf("h-%04d", i)); err != nil {
			t.Errorf("live token %d: %v", i, err)
		}
	}
}

// The sign-ins of a user (migration 0020): one per family with a live
// token, joined with its sign_ins row (none for older families), newest
// use first; a used, revoked or expired family is not listed; rows
// expire with their family.
func testSignIns(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_sgn"
	mustPool(t, s, pool)
	u := mustUser(t, s, pool, "u")
	other := mustUser(t, s, pool, "o")
	tok := func(hash, family, sub string, issued time.Time) *identity.RefreshToken {
		return &identity.RefreshToken{Hash: hash, PoolID: pool, ClientID: "c1", UserSub: sub, FamilyID: family, OriginJTI: "o-" + family,
			AuthTime: t0, IssuedAt: issued, ExpiresAt: t0.Add(24 * time.Hour)}
	}
	noErr(t, "insert", s.InTx(c, func(q store.Querier) error {
		for _, rt := range []*identity.RefreshToken{tok("a1", "fa", u.Sub, t0), tok("b1", "fb", u.Sub, t0.Add(time.Minute)),
			tok("c1", "fc", u.Sub, t0), tok("d1", "fd", other.Sub, t0)} {
			if err := q.InsertRefreshToken(c, rt); err != nil {
				return err
			}
		}
		for _, f := range []string{"fa", "fc"} {
			if err := q.InsertSignIn(c, &store.SignIn{PoolID: pool, FamilyID: f, UserSub: u.Sub, ClientID: "c1", UserAgent: "ua-" + f,
				IP: "192.0.2.1", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	}))
	wantErr(t, "InsertSignIn twice", s.InsertSignIn(c, &store.SignIn{PoolID: pool, FamilyID: "fa", UserSub: u.Sub}), store.ErrConflict)
	// fa rotates (a1 used, a2 live, issued later); fc is revoked.
	ok, err := s.RotateRefreshToken(c, "a1", tok("a2", "fa", u.Sub, t0.Add(2*time.Minute)), t0.Add(2*time.Minute))
	if err != nil || !ok {
		t.Fatalf("rotate: %v %v", ok, err)
	}
	noErr(t, "RevokeRefreshFamily", s.RevokeRefreshFamily(c, "fc", t0))
	list, err := s.ListSignIns(c, pool, u.Sub, t0.Add(time.Hour))
	noErr(t, "ListSignIns", err)
	if len(list) != 2 || list[0].FamilyID != "fa" || list[1].FamilyID != "fb" {
		t.Fatalf("sign-ins %+v", list)
	}
	if a := list[0]; a.UserAgent != "ua-fa" || a.IP != "192.0.2.1" || a.OriginJTI != "o-fa" || !a.LastUsed.Equal(t0.Add(2*time.Minute)) || !a.AuthTime.Equal(t0) {
		t.Fatalf("fa %+v", a)
	}
	if b := list[1]; b.UserAgent != "" || b.ClientID != "c1" {
		t.Fatalf("fb (no sign_ins row) %+v", b)
	}
	if list, _ := s.ListSignIns(c, pool, u.Sub, t0.Add(25*time.Hour)); len(list) != 0 {
		t.Fatalf("expired families listed: %+v", list)
	}
	n, err := s.DeleteExpiredSignIns(c, t0.Add(25*time.Hour))
	noErr(t, "DeleteExpiredSignIns", err)
	if n != 2 {
		t.Fatalf("DeleteExpiredSignIns deleted %d, want 2", n)
	}
}
