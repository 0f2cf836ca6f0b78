package jobs

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

var (
	processed = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_jobs_processed_total",
		Help: "Job attempts run by this process, by kind and result (done, retry, dead).",
	}, []string{"kind", "result"})
	unrecorded = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_jobs_unrecorded_total",
		Help: "Job attempts whose outcome was not recorded, by kind and reason: superseded (the lease was lost or the job discarded meanwhile), error (the database refused until the lease ended; the job runs again).",
	}, []string{"kind", "reason"})
	jobSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gatehouse_job_seconds",
		Help:    "Time spent in job handlers, by kind.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"kind"})
)

// Collector is a Prometheus collector of the jobs table, read at each
// scrape, so its gauges are the database's truth on every node and
// survive restarts:
//
//	gatehouse_jobs_pending   jobs waiting to run (due or scheduled)
//	gatehouse_jobs_running   jobs leased to a worker
//	gatehouse_jobs_dead      jobs that failed for good and wait for an admin
//
// A scrape during a database outage reports none of them (alert on their
// absence as on /readyz).
type Collector struct {
	st      atomic.Pointer[store.Store]
	timeout time.Duration
}

var (
	descPending = prometheus.NewDesc("gatehouse_jobs_pending", "Jobs waiting to run (due or scheduled), from the jobs table.", nil, nil)
	descRunning = prometheus.NewDesc("gatehouse_jobs_running", "Jobs leased to a worker, from the jobs table.", nil, nil)
	descDead    = prometheus.NewDesc("gatehouse_jobs_dead", "Jobs that failed for good and wait for an admin's retry or discard, from the jobs table.", nil, nil)
)

// NewCollector returns a collector reading st.
func NewCollector(st store.Store) *Collector {
	c := &Collector{timeout: 5 * time.Second}
	c.st.Store(&st)
	return c
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPending
	ch <- descRunning
	ch <- descDead
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	n, err := (*c.st.Load()).CountJobStates(ctx, identity.JobPending, identity.JobRunning, identity.JobDead)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(n[identity.JobPending]))
	ch <- prometheus.MustNewConstMetric(descRunning, prometheus.GaugeValue, float64(n[identity.JobRunning]))
	ch <- prometheus.MustNewConstMetric(descDead, prometheus.GaugeValue, float64(n[identity.JobDead]))
}

var (
	defaultOnce      sync.Once
	defaultCollector *Collector
)

// RegisterMetrics has the default Prometheus registry (/metrics) report
// st's jobs table. A later call switches it to another store (a process
// that opens several, as tests do, reports the last).
func RegisterMetrics(st store.Store) {
	defaultOnce.Do(func() {
		defaultCollector = NewCollector(st)
		prometheus.MustRegister(defaultCollector)
	})
	defaultCollector.st.Store(&st)
}
