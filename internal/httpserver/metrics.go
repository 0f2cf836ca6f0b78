package httpserver

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics live in the default registry (served by OpsRoutes' /metrics) and
// are registered once, however many handlers Wrap builds (tests build many).
var (
	metricsOnce     sync.Once
	requestsTotal   *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
)

func initMetrics() {
	metricsOnce.Do(func() {
		requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "status"})
		requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_http_request_duration_seconds",
			Help:    "HTTP request latency, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"})
		requestsTotal = register(requestsTotal)
		requestDuration = register(requestDuration)
	})
}

// register registers c, or returns the collector already registered under
// the same description (e.g. by another copy of the binary's wiring).
func register[C prometheus.Collector](c C) C {
	if err := prometheus.DefaultRegisterer.Register(c); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

// routeUnmatched labels requests no ServeMux pattern matched (404s, 405s).
const routeUnmatched = "unmatched"

// methodLabel keeps the method label to the standard set.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

func observe(route, method string, status int, seconds float64) {
	requestsTotal.WithLabelValues(route, methodLabel(method), strconv.Itoa(status)).Inc()
	requestDuration.WithLabelValues(route).Observe(seconds)
}
