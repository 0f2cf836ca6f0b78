package mail

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
	emailsSent = promauto.NewCounter(prometheus.CounterOpts{
		Name: "gatehouse_emails_sent_total",
		Help: "Emails handed to the mail relay (or the dev sender) by this process.",
	})
	emailsFailed = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_emails_failed_total",
		Help: "Failed delivery attempts of this process, by reason: temporary (will retry), permanent (refused, dead), exhausted (no attempts left, dead).",
	}, []string{"reason"})
)

// Statuses the gauge reports: every one that is not final.
var gaugeStatuses = []string{identity.EmailQueued, identity.EmailSending, identity.EmailRetrying, identity.EmailDead}

var descEmails = prometheus.NewDesc("gatehouse_emails", "Outbox emails not delivered yet, by status (queued, sending, retrying, dead), from the emails table.", []string{"status"}, nil)

// Collector is a Prometheus collector of the outbox, read at each scrape:
// gatehouse_emails{status} for queued, sending, retrying and dead emails,
// the database's truth on every node, surviving restarts.
type Collector struct {
	st atomic.Pointer[store.Store]
}

// NewCollector returns a collector reading st.
func NewCollector(st store.Store) *Collector {
	c := &Collector{}
	c.st.Store(&st)
	return c
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- descEmails }

// Collect implements prometheus.Collector. During a database outage it
// reports nothing.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := (*c.st.Load()).CountEmails(ctx, gaugeStatuses...)
	if err != nil {
		return
	}
	for _, s := range gaugeStatuses {
		ch <- prometheus.MustNewConstMetric(descEmails, prometheus.GaugeValue, float64(n[s]), s)
	}
}

var (
	defaultOnce      sync.Once
	defaultCollector *Collector
)

// RegisterMetrics has the default Prometheus registry (/metrics) report
// st's outbox; a later call switches it to another store.
func RegisterMetrics(st store.Store) {
	defaultOnce.Do(func() {
		defaultCollector = NewCollector(st)
		prometheus.MustRegister(defaultCollector)
	})
	defaultCollector.st.Store(&st)
}
