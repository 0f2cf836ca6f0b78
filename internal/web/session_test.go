package web

import (
	"net/http/httptest"
	"testing"
)

func TestValidReturnTo(t *testing.T) {
	t.Parallel()
	const pool = "eu-west-1_AbC123xyZ"
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"/eu-west-1_AbC123xyZ/oauth2/authorize?client_id=x&state=y", true},
		{"/eu-west-1_AbC123xyZ/account", true},
		{"/eu-west-1_AbC123xyZ/", true},
		{"", false},
		{"/", false},
		{"/other/oauth2/authorize", false},
		{"/eu-west-1_AbC123xyZ", false},
		{"https://evil.example/eu-west-1_AbC123xyZ/", false},
		{"//evil.example/eu-west-1_AbC123xyZ/", false},
		{"/eu-west-1_AbC123xyZ//evil.example", false},
		{"/eu-west-1_AbC123xyZ/../admin", false},
		{"/eu-west-1_AbC123xyZ/./x", false},
		{"/eu-west-1_AbC123xyZ/%2e%2e/admin", false},
		{"/eu-west-1_AbC123xyZ/a%2Fb", false},
		{"/eu-west-1_AbC123xyZ/a%5cb", false},
		{"/eu-west-1_AbC123xyZ/\\evil.example", false},
		{"/eu-west-1_AbC123xyZ/\nLocation: x", false},
		{"/eu-west-1_AbC123xyZ/\x00", false},
		{"javascript:alert(1)//eu-west-1_AbC123xyZ/", false},
		{"/eu-west-1_AbC123xyZ/x#frag", true},
		{"/eu-west-1_AbC123xyZ/x?next=https://evil.example", true}, // query is ours to read, not a redirect
	} {
		if got := ValidReturnTo(pool, tc.in); got != tc.ok {
			t.Errorf("ValidReturnTo(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
	if got := SignInPath(pool, "c1", "//evil.example/"); got != "/"+pool+"/login?client_id=c1" {
		t.Errorf("SignInPath dropped nothing: %s", got)
	}
}

// The hosted pages' limiter keys IPv6 clients by their /64, so one
// subscriber cannot rotate through addresses of its prefix for fresh
// buckets (security.md L6).
func TestLimitKeyIPv6By64(t *testing.T) {
	t.Parallel()
	key := func(remote string) string {
		r := httptest.NewRequest("POST", "/p/login", nil)
		r.RemoteAddr = remote
		return limitKey("pool", r)
	}
	a, b := key("[2001:db8:1:2::1]:4000"), key("[2001:db8:1:2:ffff:1:2:3]:4001")
	if a != b {
		t.Errorf("two addresses of one /64: keys %q and %q", a, b)
	}
	if c := key("[2001:db8:1:3::1]:4000"); c == a {
		t.Errorf("another /64 has the same key %q", c)
	}
	if v4, v4b := key("192.0.2.1:1"), key("192.0.2.2:1"); v4 == v4b {
		t.Errorf("two IPv4 addresses share the key %q", v4)
	}
}
