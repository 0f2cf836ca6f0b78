package loadtest

import (
	"math"
	"slices"
	"sort"
	"time"
)

// recorder collects one worker's outcomes; it is not shared between
// goroutines, so it needs no lock. Every successful request's latency is
// kept (a phase is bounded by its duration, so the slice is too: 10 s at
// 10,000 req/s is 100,000 samples, under 1 MiB).
type recorder struct {
	ok      []time.Duration
	errors  map[string]int
	example map[string]string // first error message per key, for the report
}

func newRecorder() *recorder {
	return &recorder{errors: map[string]int{}, example: map[string]string{}}
}

func (r *recorder) success(d time.Duration) { r.ok = append(r.ok, d) }

func (r *recorder) failure(err error) { r.failureAs(errorKey(err), err) }

// failureAs counts err under key k.
func (r *recorder) failureAs(k string, err error) {
	r.errors[k]++
	if _, ok := r.example[k]; !ok {
		r.example[k] = err.Error()
	}
}

// PhaseResult is the outcome of one phase.
type PhaseResult struct {
	Name     string
	Elapsed  time.Duration
	OK       int
	Errors   map[string]int    // "<status> <code>" or "transport" -> count
	Examples map[string]string // one message per error key
	// Throughput is successful requests per second of wall time.
	Throughput    float64
	P50, P90, P99 time.Duration
	Max           time.Duration
}

// Requests returns the number of requests answered (ok + errors).
func (p *PhaseResult) Requests() int {
	n := p.OK
	for _, c := range p.Errors {
		n += c
	}
	return n
}

// ErrorCount returns the number of failed requests.
func (p *PhaseResult) ErrorCount() int { return p.Requests() - p.OK }

// merge folds the workers' recorders into one result.
func merge(name string, elapsed time.Duration, recs []*recorder) *PhaseResult {
	res := &PhaseResult{Name: name, Elapsed: elapsed, Errors: map[string]int{}, Examples: map[string]string{}}
	var all []time.Duration
	for _, r := range recs {
		all = append(all, r.ok...)
		for k, n := range r.errors {
			res.Errors[k] += n
			if _, ok := res.Examples[k]; !ok {
				res.Examples[k] = r.example[k]
			}
		}
	}
	res.OK = len(all)
	if elapsed > 0 {
		res.Throughput = float64(res.OK) / elapsed.Seconds()
	}
	slices.Sort(all)
	res.P50 = percentile(all, 50)
	res.P90 = percentile(all, 90)
	res.P99 = percentile(all, 99)
	if len(all) > 0 {
		res.Max = all[len(all)-1]
	}
	return res
}

// percentile returns the nearest-rank q-th percentile of sorted, 0 for an
// empty slice.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q / 100 * float64(len(sorted)))) // nearest rank, 1-based
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

// sortedKeys returns m's keys in order, for stable output.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
