package jobs

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	processed = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_jobs_processed_total",
		Help: "Jobs run, by kind and result (done, retry, dead, unknown_kind).",
	}, []string{"kind", "result"})
	pending = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "gatehouse_jobs_pending",
		Help: "Jobs waiting to run (due or scheduled), as last counted by a poller.",
	})
	jobSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gatehouse_job_seconds",
		Help:    "Time spent in job handlers, by kind.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"kind"})
)
