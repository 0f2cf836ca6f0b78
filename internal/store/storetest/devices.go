package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// testDevices: a device round-trips every field, a key is unique in its
// pool (and free in another), an unknown user is not found, listing pages
// by key and is the user's own, update and delete act only for the
// device's user, refresh tokens keep their device key through a rotation
// and RevokeDeviceRefreshTokens revokes exactly the device's (returning
// each sign-in once), and the devices go with the user.
func testDevices(t *testing.T, s store.Store) {
	p := mustPool(t, s, "us-east-1_dev")
	q := mustPool(t, s, "us-east-1_dev2")
	ann := mustUser(t, s, p.ID, "ann")
	bob := mustUser(t, s, p.ID, "bob")
	qann := mustUser(t, s, q.ID, "ann")
	d := &identity.Device{PoolID: p.ID, Key: "us-east-1_b", UserSub: ann.Sub, GroupKey: "-g", Name: "laptop",
		Status: identity.DeviceRemembered, Salt: "ab", Verifier: "cd", LastIP: "192.0.2.1",
		CreatedAt: t0, UpdatedAt: t0.Add(time.Second), LastAuthAt: t0.Add(2 * time.Second)}
	noErr(t, "InsertDevice", s.InsertDevice(ctx(t), d))
	wantErr(t, "same key twice", s.InsertDevice(ctx(t), &identity.Device{PoolID: p.ID, Key: d.Key, UserSub: bob.Sub,
		CreatedAt: t0, UpdatedAt: t0}), store.ErrConflict)
	noErr(t, "same key in another pool", s.InsertDevice(ctx(t), &identity.Device{PoolID: q.ID, Key: d.Key, UserSub: qann.Sub,
		CreatedAt: t0, UpdatedAt: t0}))
	wantErr(t, "unknown user", s.InsertDevice(ctx(t), &identity.Device{PoolID: p.ID, Key: "us-east-1_x", UserSub: "sub-nobody",
		CreatedAt: t0, UpdatedAt: t0}), store.ErrNotFound)
	got, err := s.GetDevice(ctx(t), p.ID, d.Key)
	if err != nil || *got != *d {
		t.Fatalf("GetDevice: %+v %v", got, err)
	}
	_, err = s.GetDevice(ctx(t), p.ID, "us-east-1_zz")
	wantErr(t, "unknown device", err, store.ErrNotFound)
	for _, k := range []string{"us-east-1_a", "us-east-1_c"} {
		noErr(t, "InsertDevice "+k, s.InsertDevice(ctx(t), &identity.Device{PoolID: p.ID, Key: k, UserSub: ann.Sub,
			Status: identity.DeviceNotRemembered, CreatedAt: t0, UpdatedAt: t0}))
	}
	noErr(t, "bob's device", s.InsertDevice(ctx(t), &identity.Device{PoolID: p.ID, Key: "us-east-1_bb", UserSub: bob.Sub,
		CreatedAt: t0, UpdatedAt: t0}))
	var keys []string
	after := ""
	for {
		page, err := s.ListDevices(ctx(t), p.ID, ann.Sub, after, 2)
		noErr(t, "ListDevices", err)
		for _, x := range page {
			keys = append(keys, x.Key)
		}
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].Key
	}
	if !slices.Equal(keys, []string{"us-east-1_a", "us-east-1_b", "us-east-1_c"}) {
		t.Fatalf("ListDevices pages: %v", keys)
	}

	upd := *d
	upd.Name, upd.Status, upd.LastIP, upd.UpdatedAt, upd.LastAuthAt = "desk", identity.DeviceNotRemembered, "192.0.2.9", t0.Add(time.Hour), t0.Add(time.Hour)
	upd.GroupKey, upd.Verifier = "changed", "changed" // not written
	noErr(t, "UpdateDevice", s.UpdateDevice(ctx(t), &upd))
	got, _ = s.GetDevice(ctx(t), p.ID, d.Key)
	if got.Name != "desk" || got.Status != identity.DeviceNotRemembered || got.LastIP != "192.0.2.9" ||
		!got.UpdatedAt.Equal(upd.UpdatedAt) || got.GroupKey != "-g" || got.Verifier != "cd" {
		t.Fatalf("after update: %+v", got)
	}
	stolen := upd
	stolen.UserSub = bob.Sub
	wantErr(t, "update by another user", s.UpdateDevice(ctx(t), &stolen), store.ErrNotFound)
	wantErr(t, "delete by another user", s.DeleteDevice(ctx(t), p.ID, bob.Sub, d.Key), store.ErrNotFound)

	// Refresh tokens remember their device, through a rotation too.
	rt := func(hash, family, origin, device string) *identity.RefreshToken {
		return &identity.RefreshToken{Hash: hash, PoolID: p.ID, ClientID: "c", UserSub: ann.Sub, FamilyID: family, OriginJTI: origin,
			DeviceKey: device, AuthTime: t0, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	}
	noErr(t, "insert r1", s.InsertRefreshToken(ctx(t), rt("r1", "f1", "o1", d.Key)))
	noErr(t, "insert r2", s.InsertRefreshToken(ctx(t), rt("r2", "f2", "o2", d.Key)))
	noErr(t, "insert r3", s.InsertRefreshToken(ctx(t), rt("r3", "f3", "o3", "us-east-1_a")))
	noErr(t, "insert r4", s.InsertRefreshToken(ctx(t), rt("r4", "f4", "o4", "")))
	ok, err := s.RotateRefreshToken(ctx(t), "r1", rt("r1b", "f1", "o1", d.Key), t0)
	if !ok || err != nil {
		t.Fatalf("rotate: %v %v", ok, err)
	}
	if r, se, err := s.GetRefreshSession(ctx(t), "r1b"); err != nil || r.DeviceKey != d.Key || se == nil {
		t.Fatalf("GetRefreshSession device key: %+v %v", r, err)
	}
	var origins []string
	err = s.InTx(ctx(t), func(tx store.Querier) error {
		var err error
		origins, err = tx.RevokeDeviceRefreshTokens(ctx(t), p.ID, d.Key, t0.Add(time.Minute))
		return err
	})
	noErr(t, "RevokeDeviceRefreshTokens", err)
	slices.Sort(origins)
	if !slices.Equal(origins, []string{"o1", "o2"}) {
		t.Fatalf("revoked sign-ins: %v", origins)
	}
	for hash, revoked := range map[string]bool{"r1b": true, "r2": true, "r3": false, "r4": false} {
		r, err := s.GetRefreshToken(ctx(t), hash)
		if err != nil || r.RevokedAt.IsZero() == revoked {
			t.Fatalf("%s revoked %v: %+v %v", hash, revoked, r, err)
		}
	}

	noErr(t, "DeleteDevice", s.DeleteDevice(ctx(t), p.ID, ann.Sub, d.Key))
	_, err = s.GetDevice(ctx(t), p.ID, d.Key)
	wantErr(t, "deleted device", err, store.ErrNotFound)
	if other, err := s.GetDevice(ctx(t), q.ID, d.Key); err != nil || other.UserSub != qann.Sub {
		t.Fatalf("the other pool's device: %+v %v", other, err)
	}
	noErr(t, "DeleteUser", s.DeleteUser(ctx(t), p.ID, ann.Sub))
	if left, err := s.ListDevices(ctx(t), p.ID, ann.Sub, "", 10); err != nil || len(left) != 0 {
		t.Fatalf("devices after the user went: %+v %v", left, err)
	}
}
