package api

import (
	"embed"
	"net/http"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// swaggerUI holds the browsable reference: Swagger UI (vendored from
// swagger-ui-dist, swaggerui/README.md) and the page that starts it on
// openapi.json. Everything comes from the binary; nothing is fetched
// from elsewhere.
//
//go:embed swaggerui
var swaggerUI embed.FS

// docsAssets are the files /api/v1/docs/{asset} serves, with their types.
var docsAssets = map[string]string{
	"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
	"swagger-ui.css":       "text/css; charset=utf-8",
	"gatehouse.js":         "text/javascript; charset=utf-8",
	"gatehouse.css":        "text/css; charset=utf-8",
	"favicon-16x16.png":    "image/png",
	"favicon-32x32.png":    "image/png",
	"LICENSE":              "text/plain; charset=utf-8",
	"NOTICE":               "text/plain; charset=utf-8",
}

// docsCSP lets the page load its own scripts, styles, images (Swagger
// UI's icons are data: SVGs in its stylesheet) and call this server's API
// (openapi.json, "try it out"), and nothing from anywhere else.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// apiDocs serves the reference page.
func (a *API) apiDocs(w http.ResponseWriter, r *http.Request) error {
	return serveDocsFile(w, "index.html", "text/html; charset=utf-8")
}

// apiDocsAsset serves one of the page's files.
func (a *API) apiDocsAsset(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("asset")
	ctype, ok := docsAssets[name]
	if !ok {
		return identity.Errorf(identity.CodeResourceNotFound, "No such file.")
	}
	return serveDocsFile(w, name, ctype)
}

func serveDocsFile(w http.ResponseWriter, name, ctype string) error {
	b, err := swaggerUI.ReadFile("swaggerui/" + name)
	if err != nil {
		return err // embedded at build time: cannot happen for a listed name
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
	return nil
}
