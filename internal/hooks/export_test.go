package hooks

import (
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
)

// CallsMetric exposes the call counter to the tests.
func CallsMetric() *prometheus.CounterVec { return calls }

// Permits exposes the network policy's decision to the tests, for
// addresses that must not be dialled from a test (private ranges).
func Permits(allowed []netip.Prefix, a netip.Addr) bool {
	return newNetPolicy(allowed, nil).permits(a)
}
