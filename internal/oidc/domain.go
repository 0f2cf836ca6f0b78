package oidc

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// Cognito's bare paths on a pool's own domain
//
// Cognito serves /oauth2/authorize, /oauth2/token, /oauth2/userInfo,
// /oauth2/revoke and /logout at the root of the pool's domain. Gatehouse
// serves them there too for a request whose Host is one of a pool's
// Domains (identity.Pool.Domains, unique across pools): the request is
// handled exactly as /<pool>/oauth2/... would be. The Host header only
// picks the pool here (anyone may reach any pool's endpoints by path
// anyway); it never goes into a URL, an issuer or a token. The host ->
// pool map is read from the pools and cached for domainCacheTTL.

const domainCacheTTL = 30 * time.Second

// domainRoutes are the bare Cognito paths, mounted on the server mux.
var domainRoutes = []string{"GET /oauth2/authorize", "POST /oauth2/token", "GET /oauth2/userInfo", "POST /oauth2/userInfo",
	"POST /oauth2/revoke", "GET /logout"}

type domainCache struct {
	mu      sync.Mutex
	byHost  map[string]string
	expires time.Time
}

// poolForHost returns the id of the pool that lists r's host (without
// port, lower-cased) among its domains.
func (h *Handler) poolForHost(r *http.Request) (string, bool) {
	host := strings.ToLower(r.Host)
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	if host == "" {
		return "", false
	}
	h.domains.mu.Lock()
	defer h.domains.mu.Unlock()
	now := h.opts.Now()
	if h.domains.byHost == nil || !now.Before(h.domains.expires) {
		m, err := loadDomains(r.Context(), h.svc)
		if err != nil {
			h.opts.Log.WarnContext(r.Context(), "oidc: load pool domains", "err", err)
			if h.domains.byHost == nil {
				return "", false
			}
		} else {
			h.domains.byHost, h.domains.expires = m, now.Add(domainCacheTTL)
		}
	}
	id, ok := h.domains.byHost[host]
	return id, ok
}

func loadDomains(ctx context.Context, svc *auth.Service) (map[string]string, error) {
	m := map[string]string{}
	token := ""
	for i := 0; i < 1000; i++ {
		ps, next, err := svc.ListPools(ctx, auth.MaxListLimit, token)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			for _, d := range p.Domains {
				m[strings.ToLower(d)] = p.ID
			}
		}
		if next == "" {
			break
		}
		token = next
	}
	return m, nil
}

// onDomain serves a bare path for the pool of the request's host, else 404.
func (h *Handler) onDomain(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := h.poolForHost(r)
		if !ok {
			http.NotFound(w, r)
			return
		}
		r.SetPathValue("pool", id)
		next(w, r)
	}
}
