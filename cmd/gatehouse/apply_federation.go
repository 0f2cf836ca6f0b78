package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/federation"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// IdentityProviderSpec declares an upstream identity provider of a pool
// (docs/federation.md):
//
//	identity_providers:
//	  - name: Google
//	    type: Google                      # OIDC | Google | Facebook
//	    client_id: 1234.apps.googleusercontent.com
//	    client_secret_env: GOOGLE_SECRET  # or client_secret_file, or client_secret
//	    attribute_mapping: {email: email, name: name}
//
// Providers not listed are left as they are. The secret is sealed with
// the master key when applied; since a sealed secret cannot be compared,
// a provider whose other fields are unchanged is "unchanged" (rotate a
// secret with `gatehouse admin idp set`).
type IdentityProviderSpec struct {
	Name             string            `yaml:"name"`
	Type             string            `yaml:"type"`
	Issuer           string            `yaml:"issuer"`
	ClientID         string            `yaml:"client_id"`
	ClientSecret     string            `yaml:"client_secret"`
	ClientSecretEnv  string            `yaml:"client_secret_env"`
	ClientSecretFile string            `yaml:"client_secret_file"`
	Scopes           []string          `yaml:"scopes"`
	AttributeMapping map[string]string `yaml:"attribute_mapping"`
	AuthURL          string            `yaml:"auth_url"`
	TokenURL         string            `yaml:"token_url"`
	GraphURL         string            `yaml:"graph_url"`

	resolved string
}

func (s IdentityProviderSpec) provider() identity.IdentityProvider {
	return identity.IdentityProvider{Name: s.Name, Type: s.Type, Issuer: s.Issuer, ClientID: s.ClientID,
		Scopes: s.Scopes, AttributeMapping: s.AttributeMapping, AuthURL: s.AuthURL, TokenURL: s.TokenURL, GraphURL: s.GraphURL}
}

// validateApplyFederation checks p's identity providers and reads their secrets.
func validateApplyFederation(where string, p *PoolSpec) []error {
	var errs []error
	seen := map[string]bool{}
	for i := range p.IdentityProviders {
		s := &p.IdentityProviders[i]
		at := fmt.Sprintf("%s.identity_providers[%d]", where, i)
		ip := s.provider()
		if err := federation.Validate(&ip); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s", at, identity.ErrorMessage(err)))
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("%s: provider %s is declared twice", at, s.Name))
		}
		seen[s.Name] = true
		n := 0
		for _, v := range []string{s.ClientSecret, s.ClientSecretEnv, s.ClientSecretFile} {
			if v != "" {
				n++
			}
		}
		switch {
		case n > 1:
			errs = append(errs, fmt.Errorf("%s: give at most one of client_secret_env, client_secret_file, client_secret", at))
		case s.ClientSecretEnv != "":
			if s.resolved = os.Getenv(s.ClientSecretEnv); s.resolved == "" {
				errs = append(errs, fmt.Errorf("%s.client_secret_env: %s is not set", at, s.ClientSecretEnv))
			}
		case s.ClientSecretFile != "":
			b, err := os.ReadFile(s.ClientSecretFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.client_secret_file: %v", at, err))
			}
			s.resolved = strings.TrimSpace(string(b))
		default:
			s.resolved = s.ClientSecret
		}
	}
	return errs
}

// planIdentityProviders compares the declared providers with existing
// (nil for a pool being created).
func planIdentityProviders(ref *poolIDRef, poolName string, specs []IdentityProviderSpec, existing *identity.Pool) []Change {
	var out []Change
	for _, s := range specs {
		want := s.provider()
		_ = federation.Validate(&want) // normalises (Google's issuer)
		name := poolName + "/" + s.Name
		var cur *identity.IdentityProvider
		if existing != nil {
			for i := range existing.Settings.IdentityProviders {
				if existing.Settings.IdentityProviders[i].Name == s.Name {
					cur = &existing.Settings.IdentityProviders[i]
				}
			}
		}
		kind, fields := ChangeCreate, []string(nil)
		if cur != nil {
			fields = providerDiff(cur, &want)
			if len(fields) == 0 {
				out = append(out, Change{Kind: ChangeUnchanged, What: "identity provider", Name: name})
				continue
			}
			kind = ChangeUpdate
		}
		out = append(out, Change{Kind: kind, What: "identity provider", Name: name, Fields: fields,
			apply: func(ctx context.Context, svc *auth.Service, w io.Writer) error {
				if _, err := svc.SetIdentityProvider(ctx, ref.id, want, s.resolved); err != nil {
					return err
				}
				fmt.Fprintf(w, "set identity provider %s\n", name)
				return nil
			}})
	}
	return out
}

func providerDiff(a, b *identity.IdentityProvider) []string {
	var out []string
	add := func(f string, same bool) {
		if !same {
			out = append(out, f)
		}
	}
	add("type", a.Type == b.Type)
	add("issuer", a.Issuer == b.Issuer)
	add("client_id", a.ClientID == b.ClientID)
	add("scopes", slices.Equal(a.Scopes, b.Scopes))
	add("attribute_mapping", maps.Equal(a.AttributeMapping, b.AttributeMapping))
	add("auth_url", a.AuthURL == b.AuthURL)
	add("token_url", a.TokenURL == b.TokenURL)
	add("graph_url", a.GraphURL == b.GraphURL)
	return out
}
