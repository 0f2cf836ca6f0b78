package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// HookSpec declares one webhook of a pool in an apply file (docs/hooks.md):
//
//	hooks:
//	  pre_sign_up:
//	    url: https://hooks.example.com/pre-sign-up
//	    secret_env: PRE_SIGN_UP_SECRET   # or secret_file, or secret
//	    timeout: 2s                      # at most 5s (the default)
//	  pre_token_generation:
//	    url: https://hooks.example.com/tokens
//	    secret_file: /run/secrets/token-hook
//	    version: "2"
//
// A trigger not listed is left as it is; `disabled: true` keeps a hook but
// stops calling it. The secret is the HMAC key the receiver verifies with;
// keep it out of the file (secret_env, secret_file).
type HookSpec struct {
	URL        string    `yaml:"url"`
	Secret     string    `yaml:"secret"`
	SecretEnv  string    `yaml:"secret_env"`
	SecretFile string    `yaml:"secret_file"`
	Timeout    *Duration `yaml:"timeout"`
	Disabled   bool      `yaml:"disabled"`
	Version    string    `yaml:"version"`

	resolved string // the secret, read by validateApplyHooks
}

// HooksSpec maps trigger names (pre_sign_up, ...) to hooks.
type HooksSpec map[string]HookSpec

// validateApplyHooks checks p's hooks and reads their secrets.
func validateApplyHooks(where string, p *PoolSpec) []error {
	var errs []error
	for name, h := range p.Hooks {
		at := fmt.Sprintf("%s.hooks.%s", where, name)
		if !identity.HookTrigger(name).Valid() {
			errs = append(errs, fmt.Errorf("%s: unknown trigger (want user_migration, pre_sign_up, custom_message, post_confirmation or pre_token_generation)", at))
			continue
		}
		if err := hooks.ValidateURL(h.URL); err != nil {
			errs = append(errs, fmt.Errorf("%s.url: %s", at, identity.ErrorMessage(err)))
		}
		n := 0
		for _, s := range []string{h.Secret, h.SecretEnv, h.SecretFile} {
			if s != "" {
				n++
			}
		}
		switch {
		case n != 1:
			errs = append(errs, fmt.Errorf("%s: give exactly one of secret_env, secret_file, secret", at))
		case h.SecretEnv != "":
			h.resolved = os.Getenv(h.SecretEnv)
			if h.resolved == "" {
				errs = append(errs, fmt.Errorf("%s.secret_env: %s is not set", at, h.SecretEnv))
			}
		case h.SecretFile != "":
			b, err := os.ReadFile(h.SecretFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.secret_file: %v", at, err))
			}
			h.resolved = strings.TrimSpace(string(b))
		default:
			h.resolved = h.Secret
		}
		if h.resolved != "" && (len(h.resolved) < 16 || len(h.resolved) > 256) {
			errs = append(errs, fmt.Errorf("%s: the secret must be 16 to 256 bytes", at))
		}
		if h.Timeout != nil && (h.Timeout.D() <= 0 || h.Timeout.D() > hooks.DefaultTimeout) {
			errs = append(errs, fmt.Errorf("%s.timeout: between 1ms and 5s", at))
		}
		if h.Version != "" && h.Version != "1" && h.Version != "2" {
			errs = append(errs, fmt.Errorf("%s.version: \"1\" or \"2\"", at))
		}
		p.Hooks[name] = h
	}
	return errs
}

// applyHooksSpec sets the declared hooks on p and reports "hooks.<trigger>"
// for each that changes.
func applyHooksSpec(p *identity.Pool, specs HooksSpec) []string {
	var changed []string
	for _, t := range identity.HookTriggers {
		s, ok := specs[string(t)]
		if !ok {
			continue
		}
		want := identity.Hook{URL: s.URL, Secret: s.resolved, Disabled: s.Disabled, Version: s.Version}
		if s.Timeout != nil {
			want.TimeoutMS = int(s.Timeout.D() / time.Millisecond)
		}
		if cur := p.Settings.Hooks.Get(t); cur != nil && *cur == want {
			continue
		}
		p.Settings.Hooks.Set(t, &want)
		changed = append(changed, "hooks."+string(t))
	}
	return changed
}
