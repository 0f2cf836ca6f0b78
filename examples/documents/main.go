// Command documents is the articles' document-sharing app: companies
// upload, list, read, update and delete their documents, protected by
// Gatehouse tokens through the authz package with article 003's rules
// (Users read; Managers create and update; Admins everything; only within
// the caller's own company, custom:company_name).
//
// Two ways to run it (see README.md):
//
//	-auth jwt    the app verifies ID tokens itself against the pool's JWKS
//	             (-issuer, -client-id)
//	-auth proxy  behind nginx (or Traefik, Caddy) asking Gatehouse's
//	             forward-auth endpoint; the app believes the X-Auth-*
//	             headers only from -trusted-proxies, and applies the same
//	             rules again
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-id/gatehouse/authz"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "documents:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("documents", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	mode := fs.String("auth", "jwt", "jwt (verify ID tokens) or proxy (trust X-Auth-* headers from -trusted-proxies)")
	issuer := fs.String("issuer", "", "the pool's issuer, <gatehouse base URL>/<pool id> (jwt mode)")
	client := fs.String("client-id", "", "the app client id (jwt mode)")
	jwksURL := fs.String("jwks-url", "", "JWKS URL (default <issuer>/.well-known/jwks.json)")
	trusted := fs.String("trusted-proxies", "127.0.0.1/32,::1/128", "CIDRs of the proxy (proxy mode)")
	dir := fs.String("data", "", "directory to keep documents in (default: memory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	auth, err := authenticator(*mode, *issuer, *client, *jwksURL, *trusted)
	if err != nil {
		return err
	}
	store, err := NewStore(*dir)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	app := &App{Store: store, Log: log, Now: time.Now}
	srv := &http.Server{Addr: *addr, Handler: app.Handler(auth), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("documents listening", "addr", *addr, "auth", *mode)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// authenticator builds the authz.Authenticator of a mode.
func authenticator(mode, issuer, client, jwksURL, trusted string) (authz.Authenticator, error) {
	switch mode {
	case "jwt":
		return authz.NewVerifier(authz.Config{
			Issuer: issuer, ClientIDs: []string{client}, JWKSURL: jwksURL,
			TokenUse: authz.TokenUseID, // ID tokens carry custom:company_name
		})
	case "proxy":
		var ps []netip.Prefix
		for _, s := range strings.Split(trusted, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("-trusted-proxies: %w", err)
			}
			ps = append(ps, p)
		}
		return authz.ProxyHeaders{Trusted: ps}, nil
	}
	return nil, fmt.Errorf("-auth %q: want jwt or proxy", mode)
}
