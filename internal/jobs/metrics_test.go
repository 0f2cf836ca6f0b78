package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// metric returns the value of the named counter or gauge sample whose
// labels include want, summed over matching series; -1 if none matches.
func metric(t *testing.T, name string, want map[string]string) float64 {
	t.Helper()
	return gathered(t, prometheus.DefaultGatherer, name, want)
}

func gathered(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total, found := 0.0, false
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue series
				}
			}
			found = true
			switch {
			case m.Counter != nil:
				total += m.GetCounter().GetValue()
			case m.Gauge != nil:
				total += m.GetGauge().GetValue()
			case m.Histogram != nil:
				total += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	if !found {
		return -1
	}
	return total
}

func TestMetrics(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		// Kinds unique to this test (and backend), as the registry is global.
		ok, bad := "metrics.ok."+t.Name(), "metrics.bad."+t.Name()
		r := e.runner("w1")
		r.Register(ok, func(ctx context.Context, j *identity.Job) error { return nil })
		r.Register(bad, func(ctx context.Context, j *identity.Job) error { return jobs.Permanent(context.Canceled) })
		e.enqueue(t, ok, nil)
		e.enqueue(t, ok, nil)
		e.enqueue(t, bad, nil)
		later := e.clock.Now().Add(time.Hour)
		if err := e.st.InTx(context.Background(), func(q store.Querier) error {
			_, err := jobs.Enqueue(context.Background(), q, ok, nil, later)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		runOnce(t, r, 2)
		runOnce(t, r, 1)
		if got := metric(t, "gatehouse_jobs_processed_total", map[string]string{"kind": ok, "result": "done"}); got != 2 {
			t.Errorf("done = %v, want 2", got)
		}
		if got := metric(t, "gatehouse_jobs_processed_total", map[string]string{"kind": bad, "result": "dead"}); got != 1 {
			t.Errorf("dead = %v, want 1", got)
		}
		if got := metric(t, "gatehouse_job_seconds", map[string]string{"kind": ok}); got != 2 {
			t.Errorf("job_seconds count = %v, want 2", got)
		}
		// The gauges come from the table: one job pending (due in an hour),
		// one dead, and the same from a second node's collector.
		for _, st := range []store.Store{e.st, e.st2} {
			reg := prometheus.NewRegistry()
			reg.MustRegister(jobs.NewCollector(st))
			for name, want := range map[string]float64{"gatehouse_jobs_pending": 1, "gatehouse_jobs_running": 0, "gatehouse_jobs_dead": 1} {
				if got := gathered(t, reg, name, nil); got != want {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
		}
	})
}
