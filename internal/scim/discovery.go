package scim

import (
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Discovery (RFC 7644 section 4): what this server really supports.

const (
	schemaResourceType = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema       = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

func (h *Handler) config(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{schemaConfig},
		"documentationUri": "https://github.com/gatehouse-id/gatehouse/blob/main/docs/company-sso.md",
		"patch":            map[string]bool{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword":   map[string]bool{"supported": false}, "sort": map[string]bool{"supported": false},
		"etag": map[string]bool{"supported": true},
		"authenticationSchemes": []map[string]any{{"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "The company's SCIM token from the console, the API or the CLI."}},
		"meta": map[string]string{"resourceType": "ServiceProviderConfig", "location": strings.TrimSuffix(h.location(r, "ServiceProviderConfig", ""), "/")}})
	return nil
}

func (h *Handler) resourceTypeList(r *http.Request) []map[string]any {
	return []map[string]any{
		{"schemas": []string{schemaResourceType}, "id": "User", "name": "User", "endpoint": "/Users",
			"description": "A member of the company", "schema": schemaUser, "schemaExtensions": []any{},
			"meta": map[string]string{"resourceType": "ResourceType", "location": h.location(r, "ResourceTypes", "User")}},
		{"schemas": []string{schemaResourceType}, "id": "Group", "name": "Group", "endpoint": "/Groups",
			"description": "The company's group, and the groups its identity provider pushed", "schema": schemaGroup,
			"schemaExtensions": []any{},
			"meta":             map[string]string{"resourceType": "ResourceType", "location": h.location(r, "ResourceTypes", "Group")}},
	}
}

// resourceTypes answers /ResourceTypes and /ResourceTypes/{id}.
func (h *Handler) resourceTypes(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	return h.discovery(w, r, h.resourceTypeList(r))
}

// schemas answers /Schemas and /Schemas/{id}.
func (h *Handler) schemas(w http.ResponseWriter, r *http.Request, c *identity.Company) error {
	return h.discovery(w, r, h.schemaList(r))
}

func (h *Handler) discovery(w http.ResponseWriter, r *http.Request, all []map[string]any) error {
	if id := r.PathValue("id"); id != "" {
		for _, x := range all {
			if x["id"] == id {
				writeJSON(w, http.StatusOK, x)
				return nil
			}
		}
		return identity.Errorf(identity.CodeResourceNotFound, "Not found.")
	}
	res := make([]any, len(all))
	for i, x := range all {
		res[i] = x
	}
	listResponse(w, len(res), 1, res)
	return nil
}

func attr(name, typ, mutability string, caseExact, required, multi bool, sub ...map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": multi, "required": required, "caseExact": caseExact,
		"mutability": mutability, "returned": "default", "uniqueness": "none", "description": name}
	if name == "userName" || name == "displayName" {
		a["uniqueness"] = "server"
	}
	if len(sub) > 0 {
		a["subAttributes"] = sub
	}
	return a
}

func (h *Handler) schemaList(r *http.Request) []map[string]any {
	const rw, ro, imm = "readWrite", "readOnly", "immutable"
	user := []map[string]any{
		attr("id", "string", ro, true, false, false),
		attr("externalId", "string", rw, true, false, false),
		attr("userName", "string", imm, false, true, false),
		attr("name", "complex", rw, false, false, false,
			attr("givenName", "string", rw, false, false, false), attr("familyName", "string", rw, false, false, false)),
		attr("emails", "complex", rw, false, false, true,
			attr("value", "string", rw, false, false, false), attr("type", "string", rw, false, false, false),
			attr("primary", "boolean", rw, false, false, false)),
		attr("active", "boolean", rw, false, false, false),
	}
	group := []map[string]any{
		attr("id", "string", ro, true, false, false),
		attr("externalId", "string", rw, true, false, false),
		attr("displayName", "string", rw, false, true, false),
		attr("members", "complex", rw, false, false, true,
			attr("value", "string", imm, true, false, false), attr("display", "string", ro, false, false, false),
			attr("$ref", "reference", imm, true, false, false)),
	}
	return []map[string]any{
		{"schemas": []string{schemaSchema}, "id": schemaUser, "name": "User", "description": "User Account", "attributes": user,
			"meta": map[string]string{"resourceType": "Schema", "location": h.location(r, "Schemas", schemaUser)}},
		{"schemas": []string{schemaSchema}, "id": schemaGroup, "name": "Group", "description": "Group", "attributes": group,
			"meta": map[string]string{"resourceType": "Schema", "location": h.location(r, "Schemas", schemaGroup)}},
	}
}
