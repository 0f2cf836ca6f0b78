package httpserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// ErrDraining is returned by Ready while the server shuts down.
var ErrDraining = errors.New("httpserver: shutting down")

// Server is an http.Server with Gatehouse's timeouts, middleware and
// graceful shutdown.
type Server struct {
	cfg      Config
	srv      *http.Server
	draining atomic.Bool

	mu      sync.Mutex
	serving sync.WaitGroup
	errs    []error
}

// New returns a Server that serves Wrap(cfg, h). It does not listen yet.
func New(cfg Config, h http.Handler) *Server {
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg}
	s.srv = &http.Server{
		Addr:              cfg.Addr,
		Handler:           Wrap(cfg, h),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Log.Handler(), slog.LevelWarn),
	}
	return s
}

// Start serves on ln in the background and returns at once. An error other
// than the one graceful shutdown causes is logged and returned by Shutdown.
func (s *Server) Start(ln net.Listener) {
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Log.Error("http server stopped", "addr", ln.Addr().String(), "err", err)
			s.mu.Lock()
			s.errs = append(s.errs, err)
			s.mu.Unlock()
		}
	}()
}

// ListenAndServe listens on Config.Addr and serves until ctx ends, then
// shuts down gracefully within Config.ShutdownTimeout. It returns nil after
// a clean shutdown, the listen error, or the serve/shutdown error.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	s.cfg.Log.Info("http server listening", "addr", ln.Addr().String())
	s.Start(ln)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	return s.Shutdown(sctx)
}

// Shutdown marks the server as draining (Ready fails from now on), stops
// accepting connections and waits for in-flight requests to finish or ctx
// to end (then it returns ctx's error and closes the remaining
// connections). It returns the first serve error, if any.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	s.serving.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(append([]error{err}, s.errs...)...)
}

// Draining reports whether Shutdown has begun.
func (s *Server) Draining() bool { return s.draining.Load() }

// Ready returns a readiness check for OpsRoutes: it fails with ErrDraining
// once Shutdown has begun, and otherwise runs checks (e.g. store.Ping) in
// order, failing with the first error.
func (s *Server) Ready(checks ...func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		if s.Draining() {
			return ErrDraining
		}
		for _, c := range checks {
			if err := c(ctx); err != nil {
				return err
			}
		}
		return nil
	}
}
