package retention

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Collector reports the size of the tables that grow with use, read from
// the database (store.TableStats) at most once per CacheFor, since a count
// of a million-row table is not free:
//
//	gatehouse_table_rows{table}                  rows
//	gatehouse_table_oldest_row_age_seconds{table} age of the oldest row
//	                                             (absent for an empty table
//	                                             or one without a time)
//
// A scrape during a database outage reports neither.
type Collector struct {
	mu       sync.Mutex
	st       store.Store
	now      func() time.Time
	cacheFor time.Duration
	at       time.Time
	stats    []store.TableStat
}

var (
	descRows   = prometheus.NewDesc("gatehouse_table_rows", "Rows of a table that grows with use.", []string{"table"}, nil)
	descOldest = prometheus.NewDesc("gatehouse_table_oldest_row_age_seconds", "Age of the oldest row of a table that retention prunes or that grows with use.", []string{"table"}, nil)
)

// NewCollector returns a collector reading st, caching for a minute.
func NewCollector(st store.Store, now func() time.Time) *Collector {
	return &Collector{st: st, now: now, cacheFor: time.Minute}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRows
	ch <- descOldest
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.stats == nil || now.Sub(c.at) >= c.cacheFor {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		stats, err := c.st.TableStats(ctx)
		cancel()
		if err != nil {
			return
		}
		c.stats, c.at = stats, now
	}
	for _, s := range c.stats {
		ch <- prometheus.MustNewConstMetric(descRows, prometheus.GaugeValue, float64(s.Rows), s.Table)
		if !s.Oldest.IsZero() {
			ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, now.Sub(s.Oldest).Seconds(), s.Table)
		}
	}
}

var (
	defaultOnce      sync.Once
	defaultCollector *Collector
)

// RegisterMetrics has the default Prometheus registry (/metrics) report
// st's table sizes. A later call switches it to another store.
func RegisterMetrics(st store.Store) {
	defaultOnce.Do(func() {
		defaultCollector = NewCollector(st, time.Now)
		prometheus.MustRegister(defaultCollector)
	})
	defaultCollector.mu.Lock()
	defaultCollector.st, defaultCollector.stats = st, nil
	defaultCollector.mu.Unlock()
}
