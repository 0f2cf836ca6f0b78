package hooks

import "github.com/prometheus/client_golang/prometheus"

// CallsMetric exposes the call counter to the tests.
func CallsMetric() *prometheus.CounterVec { return calls }
