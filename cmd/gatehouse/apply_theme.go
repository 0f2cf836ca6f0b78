package main

import (
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// ThemeSpec is a pool's hosted-pages theme (docs/hosted-pages.md). Given,
// it replaces the pool's theme as a whole: a key left out takes
// Gatehouse's default. The service checks it (identity.Theme.Validate).
type ThemeSpec struct {
	LogoURL     string `yaml:"logo_url"`
	LogoAlt     string `yaml:"logo_alt"`
	ProductName string `yaml:"product_name"`
	Primary     string `yaml:"primary_color"`
	Background  string `yaml:"background_color"`
	Text        string `yaml:"text_color"`
	CSS         string `yaml:"css"`
}

// applyThemeSpec sets p's theme from spec and names the change.
func applyThemeSpec(p *identity.Pool, spec *ThemeSpec) []string {
	if spec == nil {
		return nil
	}
	// Colours are stored lower-cased; compare them so.
	want := identity.Theme{LogoURL: spec.LogoURL, LogoAlt: spec.LogoAlt, ProductName: spec.ProductName,
		Primary: strings.ToLower(spec.Primary), Background: strings.ToLower(spec.Background), Text: strings.ToLower(spec.Text),
		CSS: spec.CSS}
	if p.Settings.Theme == want {
		return nil
	}
	p.Settings.Theme = want
	return []string{"theme"}
}
