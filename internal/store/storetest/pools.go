package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func testPools(t *testing.T, s store.Store) {
	c := ctx(t)
	minV := int64(1)
	p := &identity.Pool{
		ID: "eu-west-1_AbC123xyZ", Name: "Acme", Domains: []string{"login.acme.test", "id.acme.test"},
		BaseURL: "https://login.acme.test", UsernameMode: identity.UsernameWithEmailAlias,
		UniqueEmail: true, PreventUserExistenceErrors: true, AdminCreateUserOnly: true,
		PasswordPolicy: identity.PasswordPolicy{MinimumLength: 12, MaximumLength: 64, RequireNumbers: true,
			TemporaryPasswordValidityDays: 3, BlockCommonPasswords: true, BlockedWords: []string{"acme"}},
		Schema: []identity.AttributeDef{
			{Name: "custom:company_name", Type: identity.AttrString, Mutable: true, MaxLength: 100},
			{Name: "custom:seats", Type: identity.AttrNumber, MinValue: &minV},
		},
		Tokens:     identity.TokenLifetimes{ID: 30 * time.Minute, Access: time.Hour, Refresh: 24 * time.Hour},
		SigningAlg: "RS256", MaxFailedAttempts: 7, LockoutDuration: 90 * time.Second,
		CreatedAt: t0, UpdatedAt: t0.Add(time.Second),
	}
	noErr(t, "CreatePool", s.CreatePool(c, p))
	wantErr(t, "CreatePool duplicate", s.CreatePool(c, &identity.Pool{ID: p.ID, Name: "other"}), store.ErrConflict)

	got, err := s.GetPool(c, p.ID)
	noErr(t, "GetPool", err)
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("GetPool =\n%+v\nwant\n%+v", got, p)
	}
	_, err = s.GetPool(c, "eu-west-1_missing")
	wantErr(t, "GetPool missing", err, store.ErrNotFound)

	p.Name, p.Domains, p.UniqueEmail, p.Schema = "Acme Corp", nil, false, nil
	p.LockoutDuration, p.UpdatedAt = 5*time.Minute, t0.Add(time.Hour)
	noErr(t, "UpdatePool", s.UpdatePool(c, p))
	got, err = s.GetPool(c, p.ID)
	noErr(t, "GetPool after update", err)
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("GetPool after update =\n%+v\nwant\n%+v", got, p)
	}
	// CreatedAt is not rewritten by UpdatePool.
	p2 := *p
	p2.CreatedAt = t0.Add(99 * time.Hour)
	noErr(t, "UpdatePool createdAt", s.UpdatePool(c, &p2))
	got, _ = s.GetPool(c, p.ID)
	eqTime(t, "CreatedAt after update", got.CreatedAt, t0)

	wantErr(t, "UpdatePool missing", s.UpdatePool(c, &identity.Pool{ID: "eu-west-1_missing"}), store.ErrNotFound)
	noErr(t, "DeletePool", s.DeletePool(c, p.ID))
	_, err = s.GetPool(c, p.ID)
	wantErr(t, "GetPool deleted", err, store.ErrNotFound)
	wantErr(t, "DeletePool again", s.DeletePool(c, p.ID), store.ErrNotFound)
}

func testPoolPagination(t *testing.T, s store.Store) {
	c := ctx(t)
	ids := names(7, "us-east-1_p%02d")
	for i := len(ids) - 1; i >= 0; i-- { // insert out of order
		mustPool(t, s, ids[i])
	}
	all, next, err := s.ListPools(c, store.Page{})
	noErr(t, "ListPools", err)
	if next != "" || len(all) != 7 {
		t.Fatalf("ListPools default page: %d items, next %q", len(all), next)
	}
	for _, limit := range []int{1, 2, 3, 7, 10} {
		var got []string
		for _, page := range pageAll(t, limit, func(p store.Page) ([]*identity.Pool, string, error) { return s.ListPools(c, p) }) {
			for _, p := range page {
				got = append(got, p.ID)
			}
		}
		if !reflect.DeepEqual(got, ids) {
			t.Errorf("limit %d: ids %v, want %v", limit, got, ids)
		}
	}
}

func testClients(t *testing.T, s store.Store) {
	c := ctx(t)
	mustPool(t, s, "eu-west-1_cli")
	mustPool(t, s, "eu-west-1_oth")
	cl := &identity.AppClient{
		ID: "abcdefghijklmnopqrstuvwxy0", PoolID: "eu-west-1_cli", Name: "web",
		SecretHash: "secret-hash", SecretSealed: "c2VhbGVk",
		AuthFlows:       []string{identity.FlowUserPassword, identity.FlowRefreshToken},
		Tokens:          identity.TokenLifetimes{Access: 5 * time.Minute},
		ReadAttributes:  []string{"email", "custom:company_name"},
		WriteAttributes: []string{"name"},
		CallbackURLs:    []string{"https://app.test/cb"}, LogoutURLs: []string{"https://app.test/"},
		OAuthFlows: []string{"code"}, OAuthScopes: []string{"openid", "email"},
		RefreshRotation: identity.RotationEnabled, RefreshGraceSeconds: 10,
		CreatedAt: t0, UpdatedAt: t0,
	}
	noErr(t, "CreateClient", s.CreateClient(c, cl))
	dup := *cl
	dup.PoolID = "eu-west-1_oth"
	wantErr(t, "CreateClient duplicate id in another pool", s.CreateClient(c, &dup), store.ErrConflict)
	orphan := *cl
	orphan.ID, orphan.PoolID = "orphan", "eu-west-1_nope"
	wantErr(t, "CreateClient missing pool", s.CreateClient(c, &orphan), store.ErrNotFound)

	got, err := s.GetClient(c, cl.ID)
	noErr(t, "GetClient", err)
	if !reflect.DeepEqual(got, cl) {
		t.Fatalf("GetClient =\n%+v\nwant\n%+v", got, cl)
	}
	_, err = s.GetClient(c, "nope")
	wantErr(t, "GetClient missing", err, store.ErrNotFound)

	cl.Name, cl.SecretHash, cl.SecretSealed, cl.AuthFlows, cl.UpdatedAt = "web2", "", "", nil, t0.Add(time.Minute)
	cl.RefreshRotation, cl.RefreshGraceSeconds = identity.RotationDisabled, 0 // seen through a cache too
	noErr(t, "UpdateClient", s.UpdateClient(c, cl))
	got, _ = s.GetClient(c, cl.ID)
	if !reflect.DeepEqual(got, cl) {
		t.Fatalf("GetClient after update =\n%+v\nwant\n%+v", got, cl)
	}
	wrongPool := *cl
	wrongPool.PoolID = "eu-west-1_oth"
	wantErr(t, "UpdateClient wrong pool", s.UpdateClient(c, &wrongPool), store.ErrNotFound)

	for _, id := range names(4, "client%d") {
		noErr(t, "CreateClient", s.CreateClient(c, &identity.AppClient{ID: id, PoolID: "eu-west-1_cli", CreatedAt: t0}))
	}
	noErr(t, "CreateClient other pool", s.CreateClient(c, &identity.AppClient{ID: "zz-other", PoolID: "eu-west-1_oth"}))
	var got2 []string
	for _, page := range pageAll(t, 2, func(p store.Page) ([]*identity.AppClient, string, error) {
		return s.ListClients(c, "eu-west-1_cli", p)
	}) {
		for _, x := range page {
			got2 = append(got2, x.ID)
		}
	}
	want := []string{cl.ID, "client0", "client1", "client2", "client3"}
	if !reflect.DeepEqual(got2, want) {
		t.Errorf("ListClients = %v, want %v", got2, want)
	}

	wantErr(t, "DeleteClient wrong pool", s.DeleteClient(c, "eu-west-1_oth", cl.ID), store.ErrNotFound)
	noErr(t, "DeleteClient", s.DeleteClient(c, "eu-west-1_cli", cl.ID))
	_, err = s.GetClient(c, cl.ID)
	wantErr(t, "GetClient deleted", err, store.ErrNotFound)
	wantErr(t, "DeleteClient again", s.DeleteClient(c, "eu-west-1_cli", cl.ID), store.ErrNotFound)
}
