package httpserver

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the client address stored in ctx by Wrap, or "".
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(keyClientIP).(string)
	return ip
}

// RemoteIP returns the client's IP for r: the address Wrap computed when r
// went through it, else the TCP peer (X-Forwarded-For ignored).
func RemoteIP(r *http.Request) string {
	if ip := ClientIP(r.Context()); ip != "" {
		return ip
	}
	if a, ok := peerAddr(r.RemoteAddr); ok {
		return a.String()
	}
	return ""
}

// peerAddr parses RemoteAddr ("ip:port", or a bare ip in tests).
func peerAddr(remote string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap(), true
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// clientIP resolves the client address. X-Forwarded-For is read only when
// the TCP peer is a trusted proxy; it is then walked from the right (the
// entry our own proxy appended) skipping further trusted proxies, and the
// first untrusted address is the client. A malformed entry stops the walk
// at the last good hop, so a client cannot inject an address by sending
// garbage. If every hop is trusted, the leftmost is the client.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, ok := peerAddr(r.RemoteAddr)
	if !ok {
		return ""
	}
	if len(trusted) == 0 || !isTrusted(peer, trusted) {
		return peer.String()
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	cur := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			return cur.String()
		}
		cur = a
		if !isTrusted(a, trusted) {
			return a.String()
		}
	}
	return cur.String()
}

// parseHop parses one X-Forwarded-For entry: an IP, optionally with a port
// ("1.2.3.4:5", "[::1]:5").
func parseHop(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
