package auth

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/store/poolcache"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// The hash-free hot paths through the service, without HTTP: a refresh
// (InitiateAuth REFRESH_TOKEN_AUTH, rotation included) and a GetUser
// (access token), on each backend, with parallel callers. For profiles:
//
//	go test -run '^$' -bench 'HotPath' -cpuprofile cpu.out -benchmem ./internal/auth
func BenchmarkHotPath(b *testing.B) {
	for _, be := range storetest.Backends {
		for _, cached := range []bool{false, true} {
			name := be.Name
			if cached {
				name += "/poolcache" // as cmd/gatehouse wires it
			}
			b.Run(name, func(b *testing.B) {
				st := be.Open(b)
				if cached {
					st = poolcache.New(st, poolcache.DefaultTTL, nil)
				}
				e := userSetupStore(b, st, nil, nil)
				const users = 16
				for i := range users {
					e.confirmedUser(fmt.Sprintf("hot%d@example.com", i))
				}
				var n atomic.Int64
				signIn := func() *Tokens {
					i := n.Add(1) % users
					return e.mustSignIn(fmt.Sprintf("hot%d@example.com", i), goodPW)
				}
				b.Run("refresh", func(b *testing.B) {
					b.ReportAllocs()
					b.RunParallel(func(pb *testing.PB) {
						rt := signIn().RefreshToken
						for pb.Next() {
							r, err := e.refresh(rt)
							if err != nil {
								b.Error(err)
								return
							}
							rt = r.Tokens.RefreshToken
						}
					})
				})
				b.Run("getuser", func(b *testing.B) {
					b.ReportAllocs()
					b.RunParallel(func(pb *testing.PB) {
						at := signIn().AccessToken
						for pb.Next() {
							if _, err := e.s.GetUser(e.ctx, at); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			})
		}
	}
}
