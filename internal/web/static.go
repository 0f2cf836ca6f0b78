package web

import (
	"net/http"
	"strings"
)

// static serves the embedded stylesheet and the pages' script.
func (w *Web) static(rw http.ResponseWriter, r *http.Request) {
	b, ok := staticFile(r.PathValue("file"))
	if !ok {
		http.NotFound(rw, r)
		return
	}
	ct := "text/css; charset=utf-8"
	if strings.HasSuffix(r.PathValue("file"), ".js") {
		ct = "text/javascript; charset=utf-8"
	}
	rw.Header().Set("Content-Type", ct)
	rw.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = rw.Write(b)
}
