// Package pooldomain maps a request's Host to the pool that lists it among
// its own domains (identity.Pool.Domains, unique across pools), for the
// surfaces that serve Cognito's bare paths there: the OIDC endpoints
// (/oauth2/..., /logout, internal/oidc) and the hosted pages (/login,
// /signup, ..., internal/web).
//
// The Host header only picks the pool: anyone may reach any pool's pages
// and endpoints by path anyway. It never goes into a URL, an issuer, a
// token or an email. The host -> pool map is read from the pools through
// auth.Service and cached for CacheTTL; one Resolver is shared by every
// surface of a server, so they agree on it.
package pooldomain

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// CacheTTL is how long a loaded host -> pool map is used: a domain added
// to or removed from a pool takes effect within it, on every node.
const CacheTTL = 30 * time.Second

// Lister lists pools (auth.Service).
type Lister interface {
	ListPools(ctx context.Context, limit int, token string) ([]*identity.Pool, string, error)
}

// Resolver maps hosts to pools. The zero value is not usable; call New.
type Resolver struct {
	svc Lister
	now func() time.Time
	log *slog.Logger

	mu      sync.Mutex
	byHost  map[string]string
	byName  map[string][]string // pool name -> ids
	ids     map[string]bool
	loaded  time.Time
	expires time.Time
}

// MinReload is how soon after a load a name or id the map does not know
// loads it again (a pool created moments ago), at most: a stream of
// unknown names costs one pool listing per MinReload, not one each.
const MinReload = time.Second

// New returns a resolver over svc. now and log may be nil.
func New(svc Lister, now func() time.Time, log *slog.Logger) *Resolver {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Resolver{svc: svc, now: now, log: log}
}

// Pool returns the id of the pool that lists r's host (port removed,
// lower-cased) among its domains. A store error keeps the last map (or,
// before the first load, answers "no pool"): a bare path then 404s rather
// than serving the wrong pool.
func (d *Resolver) Pool(r *http.Request) (string, bool) {
	host := strings.ToLower(r.Host)
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return "", false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.refresh(r.Context(), false) {
		return "", false
	}
	id, ok := d.byHost[host]
	return id, ok
}

// refresh loads the maps when they expired (or, with miss, when the last
// load is older than MinReload); it reports whether maps are there to
// use. A store error keeps the last maps. d.mu is held.
func (d *Resolver) refresh(ctx context.Context, miss bool) bool {
	now := d.now()
	if d.byHost == nil || !now.Before(d.expires) || (miss && !now.Before(d.loaded.Add(MinReload))) {
		m, err := load(ctx, d.svc)
		if err != nil {
			d.log.WarnContext(ctx, "pooldomain: load pool domains", "err", err)
			return d.byHost != nil
		}
		d.byHost, d.byName, d.ids, d.loaded, d.expires = m.byHost, m.byName, m.ids, now, now.Add(CacheTTL)
	}
	return true
}

// ByName returns the id of the one pool named name, for URLs that carry a
// pool's name where its id belongs (/<pool name>/signup). ok is false
// when name is a pool's id (the URL is canonical already), when no pool
// or several pools have that name, and before the pools could be read.
func (d *Resolver) ByName(ctx context.Context, name string) (id string, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.refresh(ctx, false) {
		return "", false
	}
	if !d.ids[name] && len(d.byName[name]) == 0 {
		d.refresh(ctx, true) // created since the last load?
	}
	if d.ids[name] || len(d.byName[name]) != 1 {
		return "", false
	}
	return d.byName[name][0], true
}

type maps struct {
	byHost map[string]string
	byName map[string][]string
	ids    map[string]bool
}

func load(ctx context.Context, svc Lister) (*maps, error) {
	m := &maps{byHost: map[string]string{}, byName: map[string][]string{}, ids: map[string]bool{}}
	token := ""
	for i := 0; i < 1000; i++ {
		ps, next, err := svc.ListPools(ctx, auth.MaxListLimit, token)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			for _, dom := range p.Domains {
				m.byHost[strings.ToLower(dom)] = p.ID
			}
			m.ids[p.ID] = true
			m.byName[p.Name] = append(m.byName[p.Name], p.ID)
		}
		if next == "" {
			break
		}
		token = next
	}
	return m, nil
}

type ctxKey struct{}

// Handler serves next for the pool of the request's host, else 404: it
// sets the "pool" path value to the pool's id and marks the request as
// served on the pool's domain (OnDomain), so that the handler builds
// bare-path links.
func (d *Resolver) Handler(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := d.Pool(r)
		if !ok {
			http.NotFound(w, r)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, id))
		r.SetPathValue("pool", id)
		next(w, r)
	}
}

// OnDomain reports whether r came through Handler: a bare path on the
// pool's own domain, whose pages must link to bare paths.
func OnDomain(r *http.Request) bool {
	_, ok := r.Context().Value(ctxKey{}).(string)
	return ok
}
