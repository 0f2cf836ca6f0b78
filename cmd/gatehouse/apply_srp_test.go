package main

import "testing"

// TestApplySRPSetting: srp.disabled is created with the pool, kept, and
// changed like any other pool field.
func TestApplySRPSetting(t *testing.T) {
	t.Parallel()
	c := setup(t)
	off := c.write("off.yaml", "pools:\n  - name: acme\n    srp: {disabled: true}\n")
	assertContains(t, c.ok("apply", "-f", off), "+ pool acme", "created pool acme")
	assertContains(t, c.ok("apply", "-f", off), "No changes.")
	on := c.write("on.yaml", "pools:\n  - name: acme\n    srp: {disabled: false}\n")
	assertContains(t, c.ok("apply", "-f", on), "~ pool acme: srp.disabled")
	assertContains(t, c.ok("apply", "-f", on), "No changes.")
	assertContains(t, c.ok("apply", "-f", off), "~ pool acme: srp.disabled")
}
