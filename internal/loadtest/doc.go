// Package loadtest drives a running Gatehouse over loopback HTTP through
// its native JSON API and reports throughput and latency next to the
// machine's own limits measured in the same run.
//
// Flow of Run:
//
//	validate options (loopback only)  -> refuse anything else
//	setup: pool "bench-<random>" + public client (unless PoolID given),
//	       Users users via the admin API (create + permanent password)
//	phase signup   POST /api/v1/auth/sign-up   fresh email per request
//	phase signin   POST /api/v1/auth/sign-in   round-robin over the users
//	phase refresh  POST /api/v1/auth/refresh   each worker chains the
//	                                           rotated refresh_token
//	raw rate       password.MeasureRawRate with the server's argon2 params
//	report         table (count, errors by status, req/s, p50/p90/p99)
//	               and the ratios sign-ins/s ÷ raw hashes/s (target ≥ 0.8),
//	               sign-ups/s ÷ raw hashes/s, refreshes/s (target ≥ 2000
//	               on 2 cores)
//	teardown: delete the pool if Run created it
//
// Every loop is bounded by the phase duration and by ctx.
package loadtest
