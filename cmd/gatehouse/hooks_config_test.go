package main

import (
	"strings"
	"testing"
)

// TestHooksConfig: the hooks' network override is read from YAML and the
// environment, and a malformed entry stops the start with a clear error.
// security.md G5
func TestHooksConfig(t *testing.T) {
	t.Parallel()
	cfg, err := loadFA(t, "hooks:\n  allowed_networks: [10.0.5.0/24, 127.0.0.1, \"fd00::/8\"]\n  allowed_hosts: [hooks.internal]\n")
	if err != nil {
		t.Fatal(err)
	}
	nets, err := cfg.Hooks.networks()
	if err != nil || len(nets) != 3 || nets[1].String() != "127.0.0.1/32" || cfg.Hooks.AllowedHosts[0] != "hooks.internal" {
		t.Fatalf("decoded %+v %v %v", cfg.Hooks, nets, err)
	}
	if d := DefaultConfig().Hooks; len(d.AllowedNetworks) != 0 || len(d.AllowedHosts) != 0 {
		t.Fatalf("default allows %+v", d)
	}
	env := DefaultConfig()
	if err := ApplyEnv(&env, func(k string) string {
		return map[string]string{"GATEHOUSE_HOOKS_ALLOWED_NETWORKS": "127.0.0.0/8,::1", "GATEHOUSE_HOOKS_ALLOWED_HOSTS": "a.example b.example"}[k]
	}); err != nil {
		t.Fatal(err)
	}
	if len(env.Hooks.AllowedNetworks) != 2 || len(env.Hooks.AllowedHosts) != 2 {
		t.Fatalf("from the environment: %+v", env.Hooks)
	}
	for yaml, want := range map[string]string{
		"hooks:\n  allowed_networks: [10.0.0.0/33]\n":               "hooks.allowed_networks",
		"hooks:\n  allowed_networks: [hooks.internal]\n":            "hooks.allowed_networks",
		"hooks:\n  allowed_hosts: [\"https://hooks.internal/x\"]\n": "hooks.allowed_hosts",
		"hooks:\n  allowed_hosts: [\"hooks.internal:8080\"]\n":      "hooks.allowed_hosts",
		"hooks:\n  allowed_hosts: [10.0.0.1]\n":                     "hooks.allowed_networks",
		"hooks:\n  allowed_private_networks: true\n":                "allowed_private_networks",
	} {
		_, err := loadFA(t, yaml)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", yaml, err, want)
		}
	}
}
