package postgres_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store/postgres"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// TestRevokeFamilyDuringRotation: a rotation (mark the parent used, insert
// its successor) holds the parent's row lock while RevokeRefreshFamily
// waits for it; once the rotation commits, the successor — which the
// revoking statement's snapshot did not contain — must be revoked too, or
// the holder of the successor could go on refreshing a revoked sign-in.
// The test waits until PostgreSQL reports the revocation blocked by the
// rotation's backend (pg_blocking_pids), so the interleaving is certain.
func TestRevokeFamilyDuringRotation(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresSchemaDSN(t)
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	t0 := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	if err := db.CreatePool(ctx, &identity.Pool{ID: "eu-west-1_race", Name: "race", UsernameMode: identity.UsernameEmail,
		PasswordPolicy: identity.DefaultPasswordPolicy(), SigningAlg: "ES256", CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	u := &identity.User{PoolID: "eu-west-1_race", Sub: "sub-u", Username: "u@example.com", Email: "u@example.com",
		Status: identity.StatusConfirmed, Enabled: true, CreatedAt: t0, UpdatedAt: t0}
	if err := db.CreateUser(ctx, u, false); err != nil {
		t.Fatal(err)
	}
	rt := func(hash string) *identity.RefreshToken {
		return &identity.RefreshToken{Hash: hash, PoolID: u.PoolID, ClientID: "c", UserSub: u.Sub, FamilyID: "fam",
			OriginJTI: "o", AuthTime: t0, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	}
	if err := db.InsertRefreshToken(ctx, rt("parent")); err != nil {
		t.Fatal(err)
	}

	// The rotation, on its own connection, left open.
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var pid int
	if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = 1, replaced_by = 'child' WHERE hash = 'parent' AND used_at = 0 AND revoked_at = 0`)
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("rotation: %v %d", err, n)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, pool_id, client_id, user_sub, family_id, origin_jti, issued_at, expires_at)
		VALUES ('child', $1, 'c', $2, 'fam', 'o', 1, $3)`, u.PoolID, u.Sub, t0.Add(time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- db.RevokeRefreshFamily(ctx, "fam", t0.Add(time.Minute)) }()
	// Wait (bounded) until the revocation is blocked by the rotation.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("RevokeRefreshFamily returned (%v) without waiting for the open rotation", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("RevokeRefreshFamily never waited for the rotation")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("RevokeRefreshFamily: %v", err)
	}
	for _, h := range []string{"parent", "child"} {
		got, err := db.GetRefreshToken(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if got.RevokedAt.IsZero() {
			t.Errorf("%s not revoked", h)
		}
	}
}
