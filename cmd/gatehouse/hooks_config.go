package main

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
)

// HooksConfig is the outbound network policy of the pools' webhooks
// (docs/hooks.md). By default a hook may not connect to loopback, private,
// link-local (cloud metadata), CGNAT, multicast and other internal
// addresses (hooks.DeniedNetworks), checked on the address dialled after
// DNS resolution, because pool administrators choose the URLs.
type HooksConfig struct {
	// AllowedNetworks lists CIDR prefixes or addresses that hooks may reach
	// although they are internal: self-hosted receivers
	// ("10.0.5.0/24", "127.0.0.1", "fd00::/8").
	AllowedNetworks []string `yaml:"allowed_networks"`
	// AllowedHosts lists host names that hooks may reach whatever they
	// resolve to ("hooks.internal").
	AllowedHosts []string `yaml:"allowed_hosts"`
}

var hostNamePattern = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$`)

func init() {
	checks = append(checks, checkHooks)
	envVars = append(envVars,
		envVar{"GATEHOUSE_HOOKS_ALLOWED_NETWORKS", envList(func(c *Config) *[]string { return &c.Hooks.AllowedNetworks })},
		envVar{"GATEHOUSE_HOOKS_ALLOWED_HOSTS", envList(func(c *Config) *[]string { return &c.Hooks.AllowedHosts })},
	)
}

func checkHooks(c *Config) string {
	if _, err := c.Hooks.networks(); err != nil {
		return err.Error()
	}
	for _, h := range c.Hooks.AllowedHosts {
		if len(h) > 253 || !hostNamePattern.MatchString(h) {
			return fmt.Sprintf("hooks.allowed_hosts: %q is not a host name (no scheme, port or path; addresses go in hooks.allowed_networks)", h)
		}
		if _, err := netip.ParseAddr(strings.TrimSuffix(h, ".")); err == nil {
			return fmt.Sprintf("hooks.allowed_hosts: %q is an address; put it in hooks.allowed_networks", h)
		}
	}
	return ""
}

// networks parses AllowedNetworks.
func (hc HooksConfig) networks() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(hc.AllowedNetworks))
	for _, s := range hc.AllowedNetworks {
		p, err := hooks.ParseNetwork(s)
		if err != nil {
			return nil, fmt.Errorf("hooks.allowed_networks: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// client returns the hooks client with this policy.
func (hc HooksConfig) client() (*hooks.Client, error) {
	nets, err := hc.networks()
	if err != nil {
		return nil, err
	}
	return hooks.New(hooks.Options{AllowedNetworks: nets, AllowedHosts: hc.AllowedHosts}), nil
}
