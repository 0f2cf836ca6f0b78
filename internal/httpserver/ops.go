package httpserver

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// readyTimeout bounds one readiness check, so a stuck database makes
// /readyz answer 503 rather than hang the prober.
const readyTimeout = 2 * time.Second

// OpsRoutes registers the operational endpoints on mux:
//
//	GET /healthz  200 {"status":"ok"} while the process serves at all
//	GET /readyz   200 {"status":"ok"} if ready(ctx) returns nil, else
//	              503 {"status":"unavailable"}; the cause is logged, not sent
//	GET /metrics  Prometheus exposition of the default registry
//
// ready is typically Server.Ready(store.Ping); nil means always ready.
func OpsRoutes(mux *http.ServeMux, ready func(ctx context.Context) error) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			if err := ready(ctx); err != nil {
				slog.Default().LogAttrs(r.Context(), slog.LevelWarn, "not ready",
					slog.String("request_id", RequestID(r.Context())), slog.String("err", err.Error()))
				writeStatus(w, http.StatusServiceUnavailable, "unavailable")
				return
			}
		}
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.Handle("GET /metrics", promhttp.Handler())
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(`{"status":"` + status + `"}` + "\n"))
}
