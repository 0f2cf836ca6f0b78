package hooks_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// receiver is a hook receiver on addr ("127.0.0.1:0" or "[::1]:0") that
// counts the requests it got.
func receiver(t *testing.T, addr string) (port string, hits *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	hits = new(atomic.Int64)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(200)
	}))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), hits
}

func post(c *hooks.Client, u string) (*hooks.Result, error) {
	return c.Do(context.Background(), hooks.Call{
		Hook:    &identity.Hook{URL: u, Secret: "s3cret"},
		Trigger: identity.TriggerPostConfirmation, Source: "PostConfirmation_ConfirmSignUp", DeliveryID: "d1",
		Event: map[string]any{},
	})
}

// TestNetworkPolicy: without the operator's override, a hook on the
// loopback (by address or by a name resolving to it) is refused at the
// dial, before anything is sent; with it, the same hook is reached.
// security.md G5
func TestNetworkPolicy(t *testing.T) {
	t.Parallel()
	port4, hits4 := receiver(t, "127.0.0.1:0")
	for _, tc := range []struct {
		name, url string
		hits      *atomic.Int64
		allow     []netip.Prefix
		hosts     []string
	}{
		{"127.0.0.1", "http://127.0.0.1:" + port4 + "/hook", hits4, loopback, nil},
		{"127.0.0.1 as an IPv4-mapped IPv6 address", "http://[::ffff:127.0.0.1]:" + port4 + "/hook", hits4, loopback, nil},
		{"localhost (a name resolving to 127.0.0.1)", "http://localhost:" + port4 + "/hook", hits4, loopback, nil},
		{"localhost allowed by name", "http://localhost:" + port4 + "/hook", hits4, nil, []string{"LOCALHOST"}},
	} {
		before := tc.hits.Load()
		_, err := post(hooks.New(hooks.Options{}), tc.url)
		var he *hooks.Error
		if !errors.As(err, &he) || he.Reason != "ConnectionError" || !errors.Is(err, hooks.ErrAddressNotAllowed) {
			t.Errorf("%s without the override: %v, want a refused connection", tc.name, err)
		}
		if tc.hits.Load() != before {
			t.Errorf("%s without the override: the receiver was reached", tc.name)
		}
		if _, err := post(hooks.New(hooks.Options{AllowedNetworks: tc.allow, AllowedHosts: tc.hosts}), tc.url); err != nil {
			t.Errorf("%s with the override: %v", tc.name, err)
		}
		if tc.hits.Load() != before+1 {
			t.Errorf("%s with the override: the receiver got %d requests, want 1", tc.name, tc.hits.Load()-before)
		}
	}
	port6, hits6 := receiver(t, "[::1]:0")
	if _, err := post(hooks.New(hooks.Options{}), "http://[::1]:"+port6+"/hook"); !errors.Is(err, hooks.ErrAddressNotAllowed) || hits6.Load() != 0 {
		t.Errorf("[::1] without the override: %v, %d requests", err, hits6.Load())
	}
	if _, err := post(hooks.New(hooks.Options{AllowedNetworks: loopback}), "http://[::1]:"+port6+"/hook"); err != nil || hits6.Load() != 1 {
		t.Errorf("[::1] with the override: %v, %d requests", err, hits6.Load())
	}
}

// TestNetworkPolicyPrivateRanges: the private, link-local (cloud
// metadata) and other internal ranges are refused at the dial (the
// control function runs before connect, so nothing leaves the host); the
// decision for an allowed one is checked without dialling it.
// security.md G5
func TestNetworkPolicyPrivateRanges(t *testing.T) {
	t.Parallel()
	c := hooks.New(hooks.Options{})
	for _, u := range []string{
		"http://10.0.0.1:9/", "http://172.16.5.4:9/", "http://192.168.1.1:9/", "http://169.254.169.254/latest/meta-data/",
		"http://100.64.0.1:9/", "http://0.0.0.0:9/", "http://[fd00::1]:9/", "http://[fe80::1]:9/", "http://[::]:9/",
		"http://[64:ff9b::a9fe:a9fe]:9/", "http://[2002:7f00:1::]:9/", "http://[::ffff:169.254.169.254]:9/",
	} {
		_, err := post(c, u)
		var he *hooks.Error
		if !errors.As(err, &he) || he.Reason != "ConnectionError" || !errors.Is(err, hooks.ErrAddressNotAllowed) {
			t.Errorf("%s: %v, want refused by the policy", u, err)
		}
	}
	for _, tc := range []struct {
		addr  string
		allow []netip.Prefix
		want  bool
	}{
		{"10.0.0.1", nil, false},
		{"10.0.0.1", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, true},
		{"10.0.0.1", []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}, false},
		{"169.254.169.254", nil, false},
		{"169.254.169.254", []netip.Prefix{netip.MustParsePrefix("169.254.169.254/32")}, true},
		{"::ffff:10.0.0.1", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, true},
		{"fd12::1", nil, false},
		{"fd12::1", []netip.Prefix{netip.MustParsePrefix("fd00::/8")}, true},
		{"224.0.0.1", nil, false},
		{"255.255.255.255", nil, false},
		{"fe80::1%eth0", nil, false},
		{"64:ff9b::8.8.8.8", nil, true},
		{"8.8.8.8", nil, true},
		{"2001:4860:4860::8888", nil, true},
		{"203.0.113.7", nil, true},
	} {
		if got := hooks.Permits(tc.allow, netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("%s allowed %v: %v, want %v", tc.addr, tc.allow, got, tc.want)
		}
	}
}

// TestRefusedLooksUnreachable: a refused target and a closed port give the
// caller (the "test hook" answer) the same error, so the policy cannot be
// used to map the network. security.md G5
func TestRefusedLooksUnreachable(t *testing.T) {
	t.Parallel()
	port, _ := receiver(t, "127.0.0.1:0")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/"
	l.Close()
	resRefused, errRefused := post(hooks.New(hooks.Options{}), "http://127.0.0.1:"+port+"/")
	resClosed, errClosed := post(hooks.New(hooks.Options{AllowedNetworks: loopback}), closed)
	var a, b *hooks.Error
	if !errors.As(errRefused, &a) || !errors.As(errClosed, &b) {
		t.Fatalf("errors %v / %v", errRefused, errClosed)
	}
	if a.Identity().Message != b.Identity().Message || a.Identity().Code != b.Identity().Code || resRefused != nil || resClosed != nil {
		t.Fatalf("refused %q %v, closed %q %v", a.Identity().Message, resRefused, b.Identity().Message, resClosed)
	}
}

// TestNetworkPolicyThroughProxy: with a proxy (the operator's, reached
// although it is on the loopback), the hook's own address is still
// checked before the request is handed to the proxy. security.md G5
func TestNetworkPolicyThroughProxy(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1) // a forward proxy: answers for the absolute URL it was asked
		w.WriteHeader(200)
	}))
	t.Cleanup(proxy.Close)
	pu, _ := url.Parse(proxy.URL)
	c := hooks.New(hooks.Options{Proxy: http.ProxyURL(pu)})
	if _, err := post(c, "http://203.0.113.7/hook"); err != nil || hits.Load() != 1 {
		t.Fatalf("public hook through the proxy: %v, %d requests", err, hits.Load())
	}
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]:8080/"} {
		if _, err := post(c, u); !errors.Is(err, hooks.ErrAddressNotAllowed) {
			t.Errorf("%s through the proxy: %v", u, err)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("the proxy was asked for internal targets: %d requests", hits.Load())
	}
}

func TestParseNetwork(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"10.0.0.0/8": "10.0.0.0/8", "10.1.2.3": "10.1.2.3/32", "::1": "::1/128", "fd00::/8": "fd00::/8", " 192.168.1.7/24 ": "192.168.1.0/24",
	} {
		p, err := hooks.ParseNetwork(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseNetwork(%q) = %v, %v, want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"", "example.com", "10.0.0.0/33", "fe80::1%eth0", "10.0.0"} {
		if _, err := hooks.ParseNetwork(in); err == nil {
			t.Errorf("ParseNetwork(%q) accepted", in)
		}
	}
}
