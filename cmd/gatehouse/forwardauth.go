package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/gatehouse-id/gatehouse/authz"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/forwardauth"
)

// ForwardAuthConfig configures the forward-auth endpoint
// (/authz/check/<pool id>) that nginx auth_request, Traefik ForwardAuth and
// Caddy forward_auth ask before proxying (docs/configuration.md).
type ForwardAuthConfig struct {
	// CacheTTL is how long a verified token is remembered: the longest
	// delay before a global sign-out or a disable reaches the authorizer.
	// 0s disables the cache. Default 5s.
	CacheTTL Duration `yaml:"cache_ttl"`
	// CacheSize bounds the cache (entries). Default 10000.
	CacheSize int `yaml:"cache_size"`
	// Pools holds the rules of each pool, by pool id. A pool not listed
	// refuses every check.
	Pools map[string]ForwardAuthPool `yaml:"pools"`
}

// ForwardAuthPool is one pool's forward-auth configuration.
type ForwardAuthPool struct {
	// Clients, when set, lists the app clients whose access tokens are
	// accepted.
	Clients []string `yaml:"clients"`
	// Rules map method and path patterns to groups and claim conditions; a
	// request no rule matches is refused.
	Rules []ForwardAuthRule `yaml:"rules"`
}

// ForwardAuthRule is one rule (authz.Rule).
type ForwardAuthRule struct {
	Methods []string           `yaml:"methods"`
	Path    string             `yaml:"path"`
	Public  bool               `yaml:"public"`
	Groups  []string           `yaml:"groups"`
	Claims  []ForwardAuthClaim `yaml:"claims"`
	// MatrixParams: the backend strips ";..." path parameters from each
	// segment (Tomcat, Jetty, Spring); see authz.Rule.MatrixParams.
	MatrixParams bool `yaml:"matrix_params"`
	// RequireMFA: the token's sign-in must have used a second factor
	// (authz.Rule.RequireMFA, docs/mfa.md).
	RequireMFA bool `yaml:"require_mfa"`
}

// ForwardAuthClaim is one claim condition (authz.Condition).
type ForwardAuthClaim struct {
	Claim     string `yaml:"claim"`
	Equals    string `yaml:"equals"`
	PathValue string `yaml:"path_value"`
}

const (
	defaultForwardAuthCacheTTL  = 5 * time.Second
	defaultForwardAuthCacheSize = 10000
)

// The forward_auth checks join the others in Validate.
func init() { checks = append(checks, checkForwardAuth) }

func checkForwardAuth(c *Config) string {
	fa := c.ForwardAuth
	if fa.CacheTTL < 0 || fa.CacheTTL.D() > time.Minute {
		return "forward_auth.cache_ttl: must be between 0s (no cache) and 1m (it is the revocation delay)"
	}
	if fa.CacheSize < 0 {
		return "forward_auth.cache_size: must not be negative"
	}
	if _, err := fa.pools(); err != nil {
		return err.Error()
	}
	return ""
}

// pools compiles the rules of every pool. Errors name the pool and rule.
func (fa ForwardAuthConfig) pools() (map[string]forwardauth.Pool, error) {
	ids := make([]string, 0, len(fa.Pools))
	for id := range fa.Pools {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make(map[string]forwardauth.Pool, len(ids))
	for _, id := range ids {
		pc := fa.Pools[id]
		if len(pc.Rules) == 0 {
			return nil, fmt.Errorf("forward_auth.pools.%s.rules: at least one rule is needed", id)
		}
		rules := make([]authz.Rule, len(pc.Rules))
		for i, r := range pc.Rules {
			rules[i] = authz.Rule{Methods: r.Methods, Path: r.Path, Public: r.Public, Groups: r.Groups, MatrixParams: r.MatrixParams,
				RequireMFA: r.RequireMFA}
			for _, c := range r.Claims {
				rules[i].Claims = append(rules[i].Claims, authz.Condition{Claim: c.Claim, Equals: c.Equals, PathValue: c.PathValue})
			}
		}
		p, err := authz.NewPolicy(rules)
		if err != nil {
			return nil, fmt.Errorf("forward_auth.pools.%s.rules: %w", id, err)
		}
		out[id] = forwardauth.Pool{Policy: p, Clients: pc.Clients}
	}
	return out, nil
}

// mountForwardAuth mounts the forward-auth endpoint on mux.
func mountForwardAuth(mux *http.ServeMux, svc *auth.Service, fa ForwardAuthConfig, log *slog.Logger) error {
	pools, err := fa.pools()
	if err != nil {
		return err
	}
	mux.Handle(forwardauth.Pattern, forwardauth.New(svc, forwardauth.Options{
		Pools:     pools,
		CacheTTL:  fa.CacheTTL.D(),
		CacheSize: fa.CacheSize,
		Now:       time.Now,
		Log:       log,
	}))
	return nil
}
