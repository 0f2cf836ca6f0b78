package hooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Outbound network policy
//
// Hook URLs are set by pool administrators, and Gatehouse calls them from
// its own network position. So that a pool admin cannot make Gatehouse a
// probe of the networks behind it (a cloud metadata service, an admin port
// on localhost, a database on the private network), a Client refuses to
// connect to the addresses in DeniedNetworks unless the operator allowed
// them (Options.AllowedNetworks, Options.AllowedHosts). The check runs on
// the address being dialled, after DNS resolution (a net.Dialer control
// function), so a name that resolves, or is rebound, to a denied address
// is refused too. A refused connection fails like an unreachable one
// (reason "ConnectionError"): the caller learns nothing about the target.

// DeniedNetworks are the address ranges a hook may not reach unless the
// operator allows them: "this network", private (RFC 1918, ULA), shared
// (CGNAT), loopback, link-local (including 169.254.169.254, the cloud
// metadata services), IETF protocol assignments, benchmarking, multicast,
// reserved and broadcast, IPv6 site-local, and NAT64 local use. IPv4
// addresses embedded in IPv4-mapped, NAT64 (64:ff9b::/96) and 6to4
// (2002::/16) addresses are checked as IPv4.
var DeniedNetworks = mustPrefixes(
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15",
	"224.0.0.0/4", "240.0.0.0/4",
	"::/128", "::1/128", "64:ff9b:1::/48", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
)

// LoopbackNetworks are 127.0.0.0/8 and ::1/128, for an AllowedNetworks
// that admits receivers on the same host (tests, single-host setups).
var LoopbackNetworks = mustPrefixes("127.0.0.0/8", "::1/128")

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// ErrAddressNotAllowed is wrapped by the error of a connection the
// network policy refused (only logged; callers see "ConnectionError").
var ErrAddressNotAllowed = errors.New("hooks: address not allowed by the outbound network policy (hooks.allowed_networks)")

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// netPolicy decides which addresses hooks may connect to.
type netPolicy struct {
	allowed []netip.Prefix
	hosts   map[string]bool // lower case, without a trailing dot
}

func newNetPolicy(allowed []netip.Prefix, hosts []string) *netPolicy {
	p := &netPolicy{hosts: map[string]bool{}}
	for _, a := range allowed {
		p.allowed = append(p.allowed, a.Masked())
	}
	for _, h := range hosts {
		p.hosts[canonicalHost(h)] = true
	}
	return p
}

func canonicalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

// hostAllowed reports whether the operator allowed host by name.
func (p *netPolicy) hostAllowed(host string) bool {
	return p.hosts[canonicalHost(host)]
}

// permits reports whether a hook may connect to a.
func (p *netPolicy) permits(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.WithZone("")
	for _, pr := range p.allowed {
		if pr.Contains(a) || pr.Contains(a.Unmap()) {
			return true
		}
	}
	return !denied(a)
}

// denied reports whether a is in DeniedNetworks, looking through the
// IPv6 forms that embed an IPv4 address.
func denied(a netip.Addr) bool {
	a = a.Unmap()
	for _, pr := range DeniedNetworks {
		if pr.Contains(a) {
			return true
		}
	}
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return denied(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixToFour.Contains(a):
			return denied(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	return false
}

type trustedDialKey struct{}
type proxyAddrKey struct{}

// control is the net.Dialer control function: it runs once the address is
// resolved, just before the connection is made.
func (p *netPolicy) control(ctx context.Context, _, address string, _ syscall.RawConn) error {
	if trusted, _ := ctx.Value(trustedDialKey{}).(bool); trusted {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !p.permits(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrAddressNotAllowed, address)
	}
	return nil
}

// dialContext dials addr with the policy: a host the operator allowed by
// name, and the proxy a request is sent through (the operator's own), are
// dialled without the address check.
func (p *netPolicy) dialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if proxy, _ := ctx.Value(proxyAddrKey{}).(string); (proxy != "" && proxy == addr) || p.hostAllowed(host) {
			ctx = context.WithValue(ctx, trustedDialKey{}, true)
		}
		return d.DialContext(ctx, network, addr)
	}
}

// checkProxied checks the hook's host before a request goes through a
// proxy, which then makes the connection itself: an IP literal against
// the policy, a name by resolving it (every address must be allowed). The
// proxy resolves the name again, so this is a best effort; the proxy's own
// rules are the final word for proxied hooks.
func (p *netPolicy) checkProxied(ctx context.Context, r *net.Resolver, u *url.URL) error {
	host := u.Hostname()
	if p.hostAllowed(host) {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !p.permits(a) {
			return fmt.Errorf("%w: %s", ErrAddressNotAllowed, a)
		}
		return nil
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if !p.permits(a) {
			return fmt.Errorf("%w: %s (%s)", ErrAddressNotAllowed, host, a)
		}
	}
	return nil
}

// proxyAddr is the host:port a transport dials for proxy URL u.
func proxyAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "socks5", "socks5h":
			port = "1080"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// ParseNetwork reads one allowed_networks entry: a CIDR prefix
// ("10.0.0.0/8", "fd00::/8") or a single address ("10.1.2.3", "::1").
func ParseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR prefix", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is neither an IP address nor a CIDR prefix", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
