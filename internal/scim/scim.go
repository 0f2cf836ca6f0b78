// Package scim is the SCIM 2.0 surface (RFC 7643, RFC 7644) through which
// a company's identity provider provisions the company's members:
//
//	/scim/v2/{pool}/{company}/Users[/{id}]   POST, GET (filter userName eq),
//	                                          GET, PUT, PATCH, DELETE
//	/scim/v2/{pool}/{company}/Groups[/{id}]  GET: the company's group
//	/scim/v2/{pool}/{company}/ServiceProviderConfig
//
// Every request carries the company's bearer token (auth.RotateSCIMToken);
// the service checks it and reaches only the company's members
// (internal/auth/scim.go). Errors are SCIM error documents.
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
	"regexp"
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
		"GET " + base + "/Groups/{id}":           h.getGroup,
		"GET " + base + "/ServiceProviderConfig": h.config,
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
	switch code := identity.ErrorCode(err); {
	case errors.As(err, &bad):
		writeError(w, http.StatusBadRequest, bad.scimType, bad.msg)
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
		writeError(w, http.StatusForbidden, "", identity.ErrorMessage(err))
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
	Schemas  []string `json:"schemas"`
	ID       string   `json:"id,omitempty"`
	UserName string   `json:"userName"`
	Name     *struct {
		GivenName  string `json:"givenName,omitempty"`
		FamilyName string `json:"familyName,omitempty"`
	} `json:"name,omitempty"`
	Emails []struct {
		Value   string `json:"value"`
		Primary bool   `json:"primary,omitempty"`
		Type    string `json:"type,omitempty"`
	} `json:"emails,omitempty"`
	Active *bool     `json:"active,omitempty"`
	Meta   *metaJSON `json:"meta,omitempty"`
}

type metaJSON struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Location     string `json:"location,omitempty"`
}

func (h *Handler) location(r *http.Request, kind, id string) string {
	base, _ := r.Context().Value(baseKey{}).(string)
	return base + "/scim/v2/" + url.PathEscape(r.PathValue("pool")) + "/" + url.PathEscape(r.PathValue("company")) + "/" + kind + "/" + url.PathEscape(id)
}

func (h *Handler) userOut(r *http.Request, u *auth.SCIMUser) userJSON {
	out := userJSON{Schemas: []string{schemaUser}, ID: u.ID, UserName: u.UserName, Active: &u.Active,
		Meta: &metaJSON{ResourceType: "User", Created: u.Created.UTC().Format(time.RFC3339), LastModified: u.Modified.UTC().Format(time.RFC3339),
			Location: h.location(r, "Users", u.ID)}}
	if u.GivenName != "" || u.FamilyName != "" {
		out.Name = &struct {
			GivenName  string `json:"givenName,omitempty"`
			FamilyName string `json:"familyName,omitempty"`
		}{u.GivenName, u.FamilyName}
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

func (in userJSON) user() auth.SCIMUser {
	u := auth.SCIMUser{UserName: in.UserName, Active: in.Active == nil || *in.Active}
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
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	u, err := h.svc.SCIMGetUser(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.userOut(r, u))
	return nil
}

var filterRE = regexp.MustCompile(`(?i)^\s*userName\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$`)

// listUsers answers GET /Users with startIndex/count paging and the one
// filter IdPs send before creating a user: userName eq "...".
func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	q := r.URL.Query()
	userName := ""
	if f := q.Get("filter"); f != "" {
		m := filterRE.FindStringSubmatch(f)
		if m == nil {
			return badRequest{"invalidFilter", `Only the filter userName eq "..." is supported.`}
		}
		var s string
		if err := json.Unmarshal([]byte(`"`+m[1]+`"`), &s); err != nil {
			return badRequest{"invalidFilter", "Bad string in the filter."}
		}
		userName = s
	}
	start, count := 1, 100
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return badRequest{"invalidValue", "startIndex must be an integer."}
		}
		start = max(n, 1)
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return badRequest{"invalidValue", "count must be an integer."}
		}
		count = min(max(n, 0), 1000)
	}
	all, err := h.svc.SCIMListUsers(r.Context(), c, userName)
	if err != nil {
		return err
	}
	res := []userJSON{}
	for i := start - 1; i < len(all) && len(res) < count; i++ {
		res = append(res, h.userOut(r, all[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{schemaList}, "totalResults": len(all),
		"startIndex": start, "itemsPerPage": len(res), "Resources": res})
	return nil
}

func (h *Handler) replaceUser(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	var in userJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := h.svc.SCIMReplaceUser(r.Context(), c, r.PathValue("id"), in.user())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.userOut(r, u))
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

// patchUser applies replace/add/remove operations on active,
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
		switch strings.ToLower(path) {
		case "active":
			if remove {
				return badRequest{"mutability", "active cannot be removed."}
			}
			b, err := boolValue(raw)
			if err != nil {
				return err
			}
			p.Active = &b
		case "name.givenname", "name.familyname":
			v := ""
			if !remove {
				if err := json.Unmarshal(raw, &v); err != nil {
					return badRequest{"invalidValue", path + " must be a string."}
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
	u, err := h.svc.SCIMPatchUser(r.Context(), c, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.userOut(r, u))
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
	if err := h.svc.SCIMDeleteUser(r.Context(), c, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// groupOut is the company's group with its members.
func (h *Handler) groupOut(r *http.Request, c *identity.Company) (map[string]any, error) {
	members, err := h.svc.SCIMListUsers(r.Context(), c, "")
	if err != nil {
		return nil, err
	}
	ms := []map[string]string{}
	for _, m := range members {
		ms = append(ms, map[string]string{"value": m.ID, "display": m.UserName, "$ref": h.location(r, "Users", m.ID)})
	}
	id := c.Group
	if id == "" {
		id = c.Name
	}
	return map[string]any{"schemas": []string{schemaGroup}, "id": id, "displayName": c.DisplayName, "members": ms,
		"meta": metaJSON{ResourceType: "Group", Location: h.location(r, "Groups", id)}}, nil
}

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	g, err := h.groupOut(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{schemaList}, "totalResults": 1, "startIndex": 1,
		"itemsPerPage": 1, "Resources": []any{g}})
	return nil
}

func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	g, err := h.groupOut(r, c)
	if err != nil {
		return err
	}
	if g["id"] != r.PathValue("id") {
		return identity.Errorf(identity.CodeResourceNotFound, "Group not found.")
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (h *Handler) config(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{schemaConfig},
		"patch": map[string]bool{"supported": true}, "bulk": map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":         map[string]any{"supported": true, "maxResults": 1000},
		"changePassword": map[string]bool{"supported": false}, "sort": map[string]bool{"supported": false},
		"etag": map[string]bool{"supported": false},
		"authenticationSchemes": []map[string]string{{"type": "oauthbearertoken", "name": "Bearer token",
			"description": "The company's SCIM token from the console or the API."}}})
	return nil
}
