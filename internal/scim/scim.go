// Package scim is the SCIM 2.0 surface (RFC 7643, RFC 7644) through which
// a company's identity provider provisions the company's members:
//
//	/scim/v2/{pool}/{company}/Users[/{id}]    POST, GET (filter, paging),
//	                                           GET, PUT, PATCH, DELETE
//	/scim/v2/{pool}/{company}/Groups[/{id}]   the company's group (read-only)
//	                                           and pushed groups: POST, GET,
//	                                           PUT, PATCH (members), DELETE
//	/scim/v2/{pool}/{company}/ServiceProviderConfig, /ResourceTypes, /Schemas
//
// Every request carries the company's bearer token (auth.RotateSCIMToken);
// the service checks it and reaches only the company's members
// (internal/auth/scim.go, scim_groups.go). Filters (filter.go) are
// evaluated over the company's members only. Resources carry a weak ETag
// (meta.version) and PUT, PATCH and DELETE honour If-Match. Errors are
// SCIM error documents.
package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// MountPattern is where serve mounts the handler.
const MountPattern = "/scim/v2/"

const (
	schemaUser   = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaGroup  = "urn:ietf:params:scim:schemas:core:2.0:Group"
	schemaList   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaError  = "urn:ietf:params:scim:api:messages:2.0:Error"
	schemaConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	maxBody      = 64 << 10
)

// Options configure the handler.
type Options struct {
	Log *slog.Logger
}

type baseKey struct{}

// Handler serves the SCIM routes.
type Handler struct {
	svc  *auth.Service
	opts Options
	mux  *http.ServeMux
}

// New returns the SCIM handler.
func New(svc *auth.Service, opts Options) *Handler {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	h := &Handler{svc: svc, opts: opts, mux: http.NewServeMux()}
	const base = "/scim/v2/{pool}/{company}"
	for pat, fn := range map[string]func(http.ResponseWriter, *http.Request, *identity.Company) error{
		"POST " + base + "/Users":                h.createUser,
		"GET " + base + "/Users":                 h.listUsers,
		"GET " + base + "/Users/{id}":            h.getUser,
		"PUT " + base + "/Users/{id}":            h.replaceUser,
		"PATCH " + base + "/Users/{id}":          h.patchUser,
		"DELETE " + base + "/Users/{id}":         h.deleteUser,
		"GET " + base + "/Groups":                h.listGroups,
		"POST " + base + "/Groups":               h.createGroup,
		"GET " + base + "/Groups/{id}":           h.getGroup,
		"PUT " + base + "/Groups/{id}":           h.replaceGroup,
		"PATCH " + base + "/Groups/{id}":         h.patchGroup,
		"DELETE " + base + "/Groups/{id}":        h.deleteGroup,
		"GET " + base + "/ServiceProviderConfig": h.config,
		"GET " + base + "/ResourceTypes":         h.resourceTypes,
		"GET " + base + "/ResourceTypes/{id}":    h.resourceTypes,
		"GET " + base + "/Schemas":               h.schemas,
		"GET " + base + "/Schemas/{id}":          h.schemas,
	} {
		h.mux.HandleFunc(pat, h.wrap(fn))
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "", "No such SCIM endpoint.")
	})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// wrap authenticates the company's token and maps errors.
func (h *Handler) wrap(fn func(http.ResponseWriter, *http.Request, *identity.Company) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
			writeError(w, http.StatusUnauthorized, "", "A bearer token is required.")
			return
		}
		ctx := identity.WithVia(r.Context(), "scim")
		c, err := h.svc.SCIMCompany(ctx, r.PathValue("pool"), r.PathValue("company"), strings.TrimSpace(tok))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		ctx = identity.WithActor(ctx, identity.Actor{ID: "scim:" + c.Name, Via: "scim"})
		// meta.location is built from the pool's configured issuer,
		// never from the Host header.
		if p, err := h.svc.GetPool(ctx, c.PoolID); err == nil {
			ctx = context.WithValue(ctx, baseKey{}, strings.TrimSuffix(h.svc.Issuer(p), "/"+p.ID))
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := fn(w, r.WithContext(ctx), c); err != nil {
			h.fail(w, r, err)
		}
	}
}

// fail maps a service error to a SCIM error (one place).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var bad badRequest
	var fe *filterError
	switch code := identity.ErrorCode(err); {
	case errors.As(err, &bad):
		writeError(w, http.StatusBadRequest, bad.scimType, bad.msg)
	case errors.As(err, &fe):
		writeError(w, http.StatusBadRequest, fe.scimType, fe.msg)
	case code == identity.CodePreconditionNotMet:
		writeError(w, http.StatusPreconditionFailed, "", identity.ErrorMessage(err))
	case code == identity.CodeNotAuthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="scim", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "", identity.ErrorMessage(err))
	case code == identity.CodeUserNotFound || code == identity.CodeResourceNotFound:
		writeError(w, http.StatusNotFound, "", identity.ErrorMessage(err))
	case code == identity.CodeUsernameExists || code == identity.CodeAliasExists || code == identity.CodeConflict:
		writeError(w, http.StatusConflict, "uniqueness", identity.ErrorMessage(err))
	case code == identity.CodeInvalidParameter:
		writeError(w, http.StatusBadRequest, "invalidValue", identity.ErrorMessage(err))
	case code == identity.CodeForbidden:
		writeError(w, http.StatusBadRequest, "mutability", identity.ErrorMessage(err))
	case code == identity.CodeUnavailable:
		writeError(w, http.StatusServiceUnavailable, "", "Temporarily unavailable.")
	default:
		h.opts.Log.ErrorContext(r.Context(), "scim", "err", err)
		writeError(w, http.StatusInternalServerError, "", "Internal error.")
	}
}

type badRequest struct{ scimType, msg string }

func (b badRequest) Error() string { return b.msg }

func writeError(w http.ResponseWriter, status int, scimType, detail string) {
	body := map[string]any{"schemas": []string{schemaError}, "status": strconv.Itoa(status), "detail": detail}
	if scimType != "" {
		body["scimType"] = scimType
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return badRequest{"invalidSyntax", "The body is too large or unreadable."}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badRequest{"invalidSyntax", "The body is not the expected JSON."}
	}
	return nil
}

// userJSON is a SCIM User (the attributes Gatehouse keeps; others are
// accepted and ignored).
type userJSON struct {
	Schemas    []string  `json:"schemas"`
	ID         string    `json:"id,omitempty"`
	ExternalID string    `json:"externalId,omitempty"`
	UserName   string    `json:"userName"`
	Name       *nameJSON `json:"name,omitempty"`
	Emails     []struct {
		Value   string `json:"value"`
		Primary bool   `json:"primary,omitempty"`
		Type    string `json:"type,omitempty"`
	} `json:"emails,omitempty"`
	Active *bool     `json:"active,omitempty"`
	Meta   *metaJSON `json:"meta,omitempty"`
}

type nameJSON struct {
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
}

type metaJSON struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Location     string `json:"location,omitempty"`
	Version      string `json:"version,omitempty"`
}

func (h *Handler) location(r *http.Request, kind, id string) string {
	base, _ := r.Context().Value(baseKey{}).(string)
	return base + "/scim/v2/" + url.PathEscape(r.PathValue("pool")) + "/" + url.PathEscape(r.PathValue("company")) + "/" + kind + "/" + url.PathEscape(id)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (h *Handler) userOut(r *http.Request, u *auth.SCIMUser) userJSON {
	out := userJSON{Schemas: []string{schemaUser}, ID: u.ID, ExternalID: u.ExternalID, UserName: u.UserName, Active: &u.Active,
		Meta: &metaJSON{ResourceType: "User", Created: stamp(u.Created), LastModified: stamp(u.Modified),
			Location: h.location(r, "Users", u.ID), Version: u.Version()}}
	if u.GivenName != "" || u.FamilyName != "" {
		out.Name = &nameJSON{u.GivenName, u.FamilyName}
	}
	if u.Email != "" {
		out.Emails = append(out.Emails, struct {
			Value   string `json:"value"`
			Primary bool   `json:"primary,omitempty"`
			Type    string `json:"type,omitempty"`
		}{u.Email, true, "work"})
	}
	return out
}

// userResource is u as a filter sees it.
func userResource(u *auth.SCIMUser) resource {
	r := resource{"id": u.ID, "username": u.UserName, "active": u.Active,
		"name":   resource{"givenname": u.GivenName, "familyname": u.FamilyName},
		"meta":   resource{"created": u.Created.Truncate(time.Second), "lastmodified": u.Modified.Truncate(time.Second), "resourcetype": "User"},
		"emails": []resource{}}
	if u.ExternalID != "" {
		r["externalid"] = u.ExternalID
	}
	if u.GivenName == "" {
		delete(r["name"].(resource), "givenname")
	}
	if u.FamilyName == "" {
		delete(r["name"].(resource), "familyname")
	}
	if u.Email != "" {
		r["emails"] = []resource{{"value": u.Email, "type": "work", "primary": true}}
	}
	return r
}

func (in userJSON) user() auth.SCIMUser {
	u := auth.SCIMUser{UserName: in.UserName, ExternalID: in.ExternalID, Active: in.Active == nil || *in.Active}
	if in.Name != nil {
		u.GivenName, u.FamilyName = in.Name.GivenName, in.Name.FamilyName
	}
	for i, e := range in.Emails {
		if e.Primary || i == 0 {
			u.Email = e.Value
		}
	}
	return u
}

// writeResource answers a resource with its ETag.
func writeResource(w http.ResponseWriter, status int, version string, v any) {
	if version != "" {
		w.Header().Set("ETag", version)
	}
	writeJSON(w, status, v)
}

func ifMatch(r *http.Request) string { return strings.TrimSpace(r.Header.Get("If-Match")) }

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	var in userJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := h.svc.SCIMCreateUser(r.Context(), c, in.user())
	if err != nil {
		return err
	}
	out := h.userOut(r, u)
	w.Header().Set("Location", out.Meta.Location)
	writeResource(w, http.StatusCreated, u.Version(), out)
	return nil
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	u, err := h.svc.SCIMGetUser(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if m := r.Header.Get("If-None-Match"); m != "" && m == u.Version() {
		w.Header().Set("ETag", u.Version())
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	writeResource(w, http.StatusOK, u.Version(), h.userOut(r, u))
	return nil
}

// Paging limits of a listing.
const (
	defaultCount = 100
	maxCount     = 1000
)

// paging reads startIndex (1-based, below 1 is 1) and count (negative is
// 0, at most maxCount) as RFC 7644 section 3.4.2.4 says.
func paging(q url.Values) (start, count int, err error) {
	start, count = 1, defaultCount
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, 0, badRequest{"invalidValue", "startIndex must be an integer."}
		}
		start = max(n, 1)
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, 0, badRequest{"invalidValue", "count must be an integer."}
		}
		count = min(max(n, 0), maxCount)
	}
	return start, count, nil
}

func listResponse(w http.ResponseWriter, total, start int, res []any) {
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{schemaList}, "totalResults": total,
		"startIndex": start, "itemsPerPage": len(res), "Resources": res})
}

// listUsers answers GET /Users: the company's members, filtered (filter.go)
// and paged by startIndex/count.
func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	return listFiltered(w, r, userAttrs, func() ([]*auth.SCIMUser, error) { return h.svc.SCIMListUsers(r.Context(), c, "") },
		userResource, func(u *auth.SCIMUser) any { return h.userOut(r, u) })
}

// listFiltered answers a list request (GET /Users, GET /Groups): the
// resources load gives, filtered by the filter parameter (filter.go,
// against attrs) and paged by startIndex/count (RFC 7644 §3.4.2).
func listFiltered[T any](w http.ResponseWriter, r *http.Request, attrs schemaAttrs, load func() ([]T, error),
	asResource func(T) resource, out func(T) any) error {
	q := r.URL.Query()
	var f node
	if s := q.Get("filter"); s != "" {
		var err error
		if f, err = parseFilter(s, attrs); err != nil {
			return err
		}
	}
	start, count, err := paging(q)
	if err != nil {
		return err
	}
	all, err := load()
	if err != nil {
		return err
	}
	res, total := []any{}, 0
	for _, v := range all {
		if f != nil && !f.match(asResource(v)) {
			continue
		}
		if total++; total >= start && len(res) < count {
			res = append(res, out(v))
		}
	}
	listResponse(w, total, start, res)
	return nil
}

func (h *Handler) replaceUser(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	var in userJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := h.svc.SCIMReplaceUser(r.Context(), c, r.PathValue("id"), ifMatch(r), in.user())
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, u.Version(), h.userOut(r, u))
	return nil
}

type patchJSON struct {
	Schemas    []string `json:"schemas"`
	Operations []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	} `json:"Operations"`
}

// stringValue reads a PATCH value that must be a string.
func stringValue(raw json.RawMessage, path string) (string, error) {
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", badRequest{"invalidValue", path + " must be a string."}
	}
	return v, nil
}

// patchUser applies replace/add/remove operations on active, externalId,
// name.givenName and name.familyName, with or without a path (Entra ID
// sends {"op":"Replace","value":{"active":false}} and "False" strings).
func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	var in patchJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Operations) == 0 || len(in.Operations) > 100 {
		return badRequest{"invalidValue", "1 to 100 Operations are required."}
	}
	var p auth.SCIMPatch
	set := func(path string, raw json.RawMessage, remove bool) error {
		switch strings.ToLower(strings.TrimPrefix(strings.ToLower(path), strings.ToLower(schemaUser)+":")) {
		case "active":
			if remove {
				return badRequest{"mutability", "active cannot be removed."}
			}
			b, err := boolValue(raw)
			if err != nil {
				return err
			}
			p.Active = &b
		case "externalid":
			v := ""
			if !remove {
				var err error
				if v, err = stringValue(raw, path); err != nil {
					return err
				}
			}
			p.ExternalID = &v
		case "name.givenname", "name.familyname":
			v := ""
			if !remove {
				var err error
				if v, err = stringValue(raw, path); err != nil {
					return err
				}
			}
			if strings.EqualFold(path, "name.givenName") {
				p.GivenName = &v
			} else {
				p.FamilyName = &v
			}
		case "name":
			var n struct{ GivenName, FamilyName *string }
			if !remove && json.Unmarshal(raw, &n) != nil {
				return badRequest{"invalidValue", "name must be an object."}
			}
			p.GivenName, p.FamilyName = n.GivenName, n.FamilyName
		case "username", "id", "meta", "emails", "groups":
			return badRequest{"mutability", fmt.Sprintf("The attribute %q cannot be changed by PATCH.", truncate(path, 64))}
		default:
			return badRequest{"invalidPath", fmt.Sprintf("The attribute %q cannot be changed here.", truncate(path, 64))}
		}
		return nil
	}
	for _, op := range in.Operations {
		kind := strings.ToLower(op.Op)
		if kind != "add" && kind != "replace" && kind != "remove" {
			return badRequest{"invalidSyntax", "op must be add, replace or remove."}
		}
		if op.Path != "" {
			if err := set(op.Path, op.Value, kind == "remove"); err != nil {
				return err
			}
			continue
		}
		var obj map[string]json.RawMessage
		if kind == "remove" || json.Unmarshal(op.Value, &obj) != nil {
			return badRequest{"noTarget", "An operation without a path needs an object value."}
		}
		for k, v := range obj {
			if err := set(k, v, false); err != nil {
				return err
			}
		}
	}
	u, err := h.svc.SCIMPatchUser(r.Context(), c, r.PathValue("id"), ifMatch(r), p)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, u.Version(), h.userOut(r, u))
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func boolValue(raw json.RawMessage) (bool, error) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, badRequest{"invalidValue", "active must be true or false."}
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	if err := h.svc.SCIMDeleteUser(r.Context(), c, r.PathValue("id"), ifMatch(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
