package hooks

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	calls = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_hook_calls_total",
		Help: "Webhook calls by trigger and outcome: ok, rejected, unexpected (timeout, connection, HTTP status), invalid_response.",
	}, []string{"trigger", "outcome"})
	callSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gatehouse_hook_call_duration_seconds",
		Help:    "Webhook call latency by trigger, until the answer was read or the call failed.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"trigger"})
)

func outcome(err error) string {
	e, ok := err.(*Error)
	switch {
	case err == nil:
		return "ok"
	case !ok:
		return "unexpected"
	case e.Kind == KindRejected:
		return "rejected"
	case e.Kind == KindInvalidResponse:
		return "invalid_response"
	}
	return "unexpected"
}
