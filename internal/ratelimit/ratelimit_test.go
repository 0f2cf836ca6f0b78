package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

func TestBucket(t *testing.T) {
	t.Parallel()
	l := New(3, 10*time.Second, 0)
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("a", t0); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("a", t0)
	if ok || wait != 10*time.Second {
		t.Fatalf("past the burst: ok %v, wait %v; want refused, 10s", ok, wait)
	}
	if ok, _ := l.Allow("b", t0); !ok {
		t.Fatal("another key shares a's bucket")
	}
	if ok, wait = l.Allow("a", t0.Add(4*time.Second)); ok || wait != 6*time.Second {
		t.Fatalf("after 4s: ok %v, wait %v; want refused, 6s", ok, wait)
	}
	if ok, _ := l.Allow("a", t0.Add(10*time.Second)); !ok {
		t.Fatal("one token per 10s: refused after 10s")
	}
}

// A flood of new keys evicts the least recently used buckets one by one;
// an exhausted bucket in use is not reset (security.md L6). The limiter
// this replaced dropped every bucket at once when its map was full.
func TestFloodDoesNotResetBuckets(t *testing.T) {
	t.Parallel()
	const max = 100
	l := New(2, time.Hour, max)
	// Fill the map with other clients, then exhaust the attacker's key.
	for i := 0; i < max-1; i++ {
		l.Allow(fmt.Sprint("old-", i), t0)
	}
	l.Allow("attacker", t0)
	l.Allow("attacker", t0)
	if ok, _ := l.Allow("attacker", t0); ok {
		t.Fatal("burst of 2 allowed a third request")
	}
	// The attacker floods with fresh keys, fewer than the map holds, and
	// keeps its own key in use.
	for i := 0; i < max-2; i++ {
		l.Allow(fmt.Sprint("flood-", i), t0)
		if i%10 == 0 {
			if ok, _ := l.Allow("attacker", t0); ok {
				t.Fatalf("after %d new keys the attacker's bucket was reset", i+1)
			}
		}
	}
	if ok, _ := l.Allow("attacker", t0); ok {
		t.Fatal("after the flood the attacker's bucket was reset")
	}
	if n := l.Len(); n != max {
		t.Fatalf("Len = %d, want the bound %d", n, max)
	}
	// The least recently used keys went first.
	if ok, _ := l.Allow("flood-0", t0); !ok {
		t.Fatal("a recent key lost its bucket")
	}
}

func TestIPKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"", ""},
		{"Not-An-IP", "not-an-ip"},
	} {
		if got := IPKey(tc.in); got != tc.want {
			t.Errorf("IPKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Addresses of one /64 share a bucket; the next /64 has its own.
func TestIPv6By64SharesBucket(t *testing.T) {
	t.Parallel()
	l := New(2, time.Hour, 0)
	for i := 0; i < 2; i++ {
		if ok, _ := l.Allow(IPKey(fmt.Sprintf("2001:db8:1:2::%x", i+1)), t0); !ok {
			t.Fatal("burst refused")
		}
	}
	if ok, _ := l.Allow(IPKey("2001:db8:1:2:ffff::9"), t0); ok {
		t.Fatal("a third address of the same /64 got its own bucket")
	}
	if ok, _ := l.Allow(IPKey("2001:db8:1:3::1"), t0); !ok {
		t.Fatal("another /64 shares the bucket")
	}
}
