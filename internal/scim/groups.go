package scim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// /Groups: the company's own group (read-only) and the groups its IdP
// pushed, each bound to a pool group the company's provider mapping
// gives (internal/auth/scim_groups.go).

type memberJSON struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Ref     string `json:"$ref,omitempty"`
}

type groupJSON struct {
	Schemas     []string     `json:"schemas"`
	ID          string       `json:"id,omitempty"`
	ExternalID  string       `json:"externalId,omitempty"`
	DisplayName string       `json:"displayName"`
	Members     []memberJSON `json:"members"`
	Meta        *metaJSON    `json:"meta,omitempty"`
}

func (h *Handler) groupOut(r *http.Request, g *auth.SCIMGroupView, withMembers bool) groupJSON {
	out := groupJSON{Schemas: []string{schemaGroup}, ID: g.ID, ExternalID: g.ExternalID, DisplayName: g.DisplayName,
		Members: []memberJSON{}, Meta: &metaJSON{ResourceType: "Group", Created: stamp(g.Created), LastModified: stamp(g.Modified),
			Location: h.location(r, "Groups", g.ID), Version: g.Version()}}
	if withMembers {
		for _, m := range g.Members {
			out.Members = append(out.Members, memberJSON{m.ID, m.UserName, h.location(r, "Users", m.ID)})
		}
	} else {
		out.Members = nil
	}
	return out
}

func groupResource(g *auth.SCIMGroupView) resource {
	ms := []resource{}
	for _, m := range g.Members {
		ms = append(ms, resource{"value": m.ID, "display": m.UserName})
	}
	r := resource{"id": g.ID, "displayname": g.DisplayName, "members": ms,
		"meta": resource{"created": g.Created.Truncate(1e9), "lastmodified": g.Modified.Truncate(1e9), "resourcetype": "Group"}}
	if g.ExternalID != "" {
		r["externalid"] = g.ExternalID
	}
	return r
}

// excludesMembers tells whether the request asks for groups without
// their members (Entra ID: excludedAttributes=members).
func excludesMembers(r *http.Request) bool {
	for _, a := range strings.Split(r.URL.Query().Get("excludedAttributes"), ",") {
		if strings.EqualFold(strings.TrimSpace(a), "members") {
			return true
		}
	}
	return false
}

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	members := !excludesMembers(r)
	return listFiltered(w, r, groupAttrs, func() ([]*auth.SCIMGroupView, error) { return h.svc.SCIMListGroups(r.Context(), c) },
		groupResource, func(g *auth.SCIMGroupView) any { return h.groupOut(r, g, members) })
}

func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	g, err := h.svc.SCIMGetGroup(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, g.Version(), h.groupOut(r, g, !excludesMembers(r)))
	return nil
}

func (in groupJSON) input() auth.SCIMGroupInput {
	g := auth.SCIMGroupInput{DisplayName: in.DisplayName, ExternalID: in.ExternalID}
	for _, m := range in.Members {
		g.Members = append(g.Members, m.Value)
	}
	return g
}

func (h *Handler) createGroup(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	var in groupJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	g, err := h.svc.SCIMCreateGroup(r.Context(), c, in.input())
	if err != nil {
		return err
	}
	out := h.groupOut(r, g, true)
	w.Header().Set("Location", out.Meta.Location)
	writeResource(w, http.StatusCreated, g.Version(), out)
	return nil
}

func (h *Handler) replaceGroup(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	var in groupJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	g, err := h.svc.SCIMReplaceGroup(r.Context(), c, r.PathValue("id"), ifMatch(r), in.input())
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, g.Version(), h.groupOut(r, g, true))
	return nil
}

// memberValues reads a PATCH value naming members: [{"value": id}, ...]
// or one {"value": id}.
func memberValues(raw json.RawMessage) ([]string, error) {
	var list []memberJSON
	if err := json.Unmarshal(raw, &list); err != nil {
		var one memberJSON
		if json.Unmarshal(raw, &one) != nil {
			return nil, badRequest{"invalidValue", "members must be a list of {\"value\": id}."}
		}
		list = []memberJSON{one}
	}
	out := make([]string, 0, len(list))
	for _, m := range list {
		if m.Value == "" {
			return nil, badRequest{"invalidValue", "A member needs a value (the user's id)."}
		}
		out = append(out, m.Value)
	}
	return out, nil
}

// memberPath reads a path members[value eq "id"] (Okta's removal).
func memberPath(path string) (string, bool) {
	n, err := parseFilter(path, groupAttrs)
	if err != nil {
		return "", false
	}
	c, ok := n.(compareNode)
	if !ok || c.p.attr != "members" || c.op != "pr" || c.p.sub != "" {
		return "", false
	}
	w, ok := c.p.where.(compareNode)
	if !ok || w.p.attr != "value" || w.op != "eq" {
		return "", false
	}
	v, ok := w.value.(string)
	return v, ok
}

// groupPatch folds PATCH operations, in order, into one change.
type groupPatch struct{ auth.SCIMGroupPatch }

func (p *groupPatch) add(ids []string) {
	for _, id := range ids {
		p.Remove = slices.DeleteFunc(p.Remove, func(s string) bool { return s == id })
		p.Add = append(p.Add, id)
	}
}

func (p *groupPatch) remove(ids []string) {
	for _, id := range ids {
		p.Add = slices.DeleteFunc(p.Add, func(s string) bool { return s == id })
		p.Remove = append(p.Remove, id)
	}
}

func (p *groupPatch) removeAll() { p.RemoveAll, p.Add, p.Remove = true, nil, nil }

func (p *groupPatch) set(kind, path string, raw json.RawMessage) error {
	lp := strings.ToLower(strings.TrimPrefix(strings.ToLower(path), strings.ToLower(schemaGroup)+":"))
	switch {
	case lp == "displayname" || lp == "externalid":
		v := ""
		if kind != "remove" {
			var err error
			if v, err = stringValue(raw, path); err != nil {
				return err
			}
		} else if lp == "displayname" {
			return badRequest{"mutability", "displayName cannot be removed."}
		}
		if lp == "displayname" {
			p.DisplayName = &v
		} else {
			p.ExternalID = &v
		}
	case lp == "members":
		if kind == "remove" && (len(raw) == 0 || string(raw) == "null") {
			p.removeAll()
			return nil
		}
		ids, err := memberValues(raw)
		if err != nil {
			return err
		}
		switch kind {
		case "add":
			p.add(ids)
		case "remove":
			p.remove(ids)
		default:
			p.removeAll()
			p.add(ids)
		}
	case strings.HasPrefix(lp, "members["):
		id, ok := memberPath(path)
		if !ok || kind != "remove" {
			return badRequest{"invalidPath", `Only remove with the path members[value eq "id"] is supported.`}
		}
		p.remove([]string{id})
	case lp == "id" || lp == "meta":
		return badRequest{"mutability", fmt.Sprintf("The attribute %q cannot be changed.", truncate(path, 64))}
	default:
		return badRequest{"invalidPath", fmt.Sprintf("The attribute %q cannot be changed here.", truncate(path, 64))}
	}
	if len(p.Add)+len(p.Remove) > auth.MaxSCIMGroupMembers {
		return badRequest{"tooMany", fmt.Sprintf("At most %d members in one request.", auth.MaxSCIMGroupMembers)}
	}
	return nil
}

// patchGroup applies add/replace/remove on displayName, externalId and
// members, in Okta's and Entra ID's forms.
func (h *Handler) patchGroup(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	var in patchJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Operations) == 0 || len(in.Operations) > 100 {
		return badRequest{"invalidValue", "1 to 100 Operations are required."}
	}
	var p groupPatch
	for _, op := range in.Operations {
		kind := strings.ToLower(op.Op)
		if kind != "add" && kind != "replace" && kind != "remove" {
			return badRequest{"invalidSyntax", "op must be add, replace or remove."}
		}
		if op.Path != "" {
			if err := p.set(kind, op.Path, op.Value); err != nil {
				return err
			}
			continue
		}
		var obj map[string]json.RawMessage
		if kind == "remove" || json.Unmarshal(op.Value, &obj) != nil {
			return badRequest{"noTarget", "An operation without a path needs an object value."}
		}
		for k, v := range obj {
			if strings.EqualFold(k, "id") {
				continue // Okta repeats the id
			}
			if err := p.set(kind, k, v); err != nil {
				return err
			}
		}
	}
	g, err := h.svc.SCIMPatchGroup(r.Context(), c, r.PathValue("id"), ifMatch(r), p.SCIMGroupPatch)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, g.Version(), h.groupOut(r, g, true))
	return nil
}

func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	if err := h.svc.SCIMDeleteGroup(r.Context(), c, r.PathValue("id"), ifMatch(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
