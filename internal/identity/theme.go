package identity

import (
	"net/url"
	"strings"
)

// MaxThemeCSS caps Theme.CSS in bytes.
const MaxThemeCSS = 16 << 10

// Theme styles a pool's hosted pages. The zero value is Gatehouse's look.
// Everything is checked by Validate (called whenever a pool is written),
// so the pages can emit it without further escaping decisions:
//
//   - colours are "#rrggbb" (or empty for the default);
//   - LogoURL is an absolute https URL without user info (the pages add
//     its origin to img-src in their Content-Security-Policy);
//   - CSS is extra CSS appended to the pool's stylesheet, served as its own
//     text/css file (never inline): at most MaxThemeCSS bytes, printable
//     text only, and without "<", "\", "@import", "url(", "expression(",
//     "javascript:" or "behavior" — so it can restyle the pages but not
//     load anything from anywhere, not even from this origin.
type Theme struct {
	LogoURL     string `json:"logo_url,omitempty"`
	LogoAlt     string `json:"logo_alt,omitempty"`
	Primary     string `json:"primary_color,omitempty"`    // buttons, links
	Background  string `json:"background_color,omitempty"` // page background
	Text        string `json:"text_color,omitempty"`
	CSS         string `json:"css,omitempty"`
	ProductName string `json:"product_name,omitempty"` // shown instead of the pool name
}

// IsHexColor reports whether s is "#rrggbb".
func IsHexColor(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for _, c := range s[1:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// Validate checks t and lower-cases its colours. Errors: invalid_parameter
// naming the field.
func (t *Theme) Validate() error {
	for _, c := range []struct {
		field string
		v     *string
	}{{"theme.primary_color", &t.Primary}, {"theme.background_color", &t.Background}, {"theme.text_color", &t.Text}} {
		if *c.v == "" {
			continue
		}
		if !IsHexColor(*c.v) {
			return FieldError(c.field, "A colour must be written #rrggbb.")
		}
		*c.v = strings.ToLower(*c.v)
	}
	if t.LogoURL != "" {
		u, err := url.Parse(t.LogoURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(t.LogoURL) > 2048 ||
			strings.ContainsAny(t.LogoURL, " \"'<>\\") {
			return FieldError("theme.logo_url", "The logo must be an https URL.")
		}
	}
	if len(t.LogoAlt) > 200 || len(t.ProductName) > 200 {
		return FieldError("theme", "The logo text and product name are limited to 200 characters.")
	}
	if len(t.CSS) > MaxThemeCSS {
		return FieldError("theme.css", "The extra CSS is limited to %d bytes.", MaxThemeCSS)
	}
	for _, r := range t.CSS {
		if r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0x7f || r == 0xfffd {
			return FieldError("theme.css", "The extra CSS must be printable text.")
		}
	}
	low := strings.ToLower(t.CSS)
	for _, bad := range []string{"<", "\\", "@import", "url(", "expression(", "javascript:", "behavior", "-moz-binding"} {
		if strings.Contains(low, bad) {
			return FieldError("theme.css", "The extra CSS may not contain %q.", bad)
		}
	}
	return nil
}
