package main

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/authz"
)

const maxDocumentSize = 1 << 20

// App is the document-sharing app: its routes, behind authz.
type App struct {
	Store *Store
	Log   *slog.Logger
	Now   func() time.Time
}

// Handler returns the app's routes behind an authz.Middleware with Rules
// and the given authenticator (an *authz.Verifier, or authz.ProxyHeaders
// behind a forward-auth proxy).
func (a *App) Handler(auth authz.Authenticator) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /me", a.me)
	mux.HandleFunc("GET /companies/{company}/documents", a.list)
	mux.HandleFunc("POST /companies/{company}/documents", a.create)
	mux.HandleFunc("GET /companies/{company}/documents/{id}", a.read)
	mux.HandleFunc("PUT /companies/{company}/documents/{id}", a.update)
	mux.HandleFunc("DELETE /companies/{company}/documents/{id}", a.remove)
	mw := &authz.Middleware{Auth: auth, Policy: authz.MustPolicy(Rules()...), Realm: "documents", Log: a.Log}
	return mw.Wrap(mux)
}

// caller returns the identity the middleware verified and the company it
// may act on. The policy already compared the path's company with the
// caller's; checking again here costs nothing and keeps a routing mistake
// from leaking another company's documents.
func (a *App) caller(w http.ResponseWriter, r *http.Request) (*authz.Identity, string, bool) {
	id, ok := authz.FromContext(r.Context())
	company := r.PathValue("company")
	if !ok || id.Company == "" || (company != "" && id.Company != company) {
		httpError(w, http.StatusForbidden, "not your company")
		return nil, "", false
	}
	return id, company, true
}

func (a *App) me(w http.ResponseWriter, r *http.Request) {
	id, _ := authz.FromContext(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{
		"sub": id.Sub, "username": id.Username, "email": id.Email, "groups": id.Groups, "company": id.Company,
	})
}

func (a *App) list(w http.ResponseWriter, r *http.Request) {
	_, company, ok := a.caller(w, r)
	if !ok {
		return
	}
	docs, err := a.Store.List(company)
	if err != nil {
		a.fail(w, err)
		return
	}
	if docs == nil {
		docs = []Document{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"documents": docs})
}

func (a *App) create(w http.ResponseWriter, r *http.Request) {
	id, company, ok := a.caller(w, r)
	if !ok {
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" || len(name) > 200 || !utf8.ValidString(name) {
		httpError(w, http.StatusBadRequest, "?name= is required (at most 200 characters)")
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	d := &Document{Company: company, Name: name, CreatedBy: id.Sub, UpdatedAt: a.Now().UTC(), Content: body}
	if err := a.Store.Put(d); err != nil {
		a.fail(w, err)
		return
	}
	d.Content = nil
	writeJSON(w, http.StatusCreated, d)
}

func (a *App) read(w http.ResponseWriter, r *http.Request) {
	_, company, ok := a.caller(w, r)
	if !ok {
		return
	}
	d, err := a.Store.Get(company, r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Document-Name", d.Name)
	w.Write(d.Content)
}

func (a *App) update(w http.ResponseWriter, r *http.Request) {
	_, company, ok := a.caller(w, r)
	if !ok {
		return
	}
	old, err := a.Store.Get(company, r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	old.Content, old.UpdatedAt = body, a.Now().UTC()
	if err := a.Store.Put(old); err != nil {
		a.fail(w, err)
		return
	}
	old.Content = nil
	writeJSON(w, http.StatusOK, old)
}

func (a *App) remove(w http.ResponseWriter, r *http.Request) {
	_, company, ok := a.caller(w, r)
	if !ok {
		return
	}
	if err := a.Store.Delete(company, r.PathValue("id")); err != nil {
		a.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDocumentSize))
	if err != nil {
		httpError(w, http.StatusRequestEntityTooLarge, "documents are at most 1 MiB")
		return nil, false
	}
	return b, true
}

func (a *App) fail(w http.ResponseWriter, err error) {
	if errors.Is(err, errNotFound) {
		httpError(w, http.StatusNotFound, "no such document")
		return
	}
	a.Log.Error("store", "err", err)
	httpError(w, http.StatusInternalServerError, "internal error")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func httpError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"status": status, "detail": msg})
}
