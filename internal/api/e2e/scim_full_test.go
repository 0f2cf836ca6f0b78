package e2e_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// scimEnv is a companies pool where Globex and Acme each have a SCIM
// token, Globex's provider maps the IdP group "Engineering" to the pool
// group "engineers" (set by the pool admin), and Acme has a member, ada.
type scimEnv struct {
	*env
	P, globex, acme, gBearer, aBearer string
}

func setupSCIM(t *testing.T) *scimEnv {
	e := setup(t)
	P, _, _ := e.companyPool(t)
	e.must(200, e.admin("PATCH", P+"/companies/globex", map[string]any{"email_domains": []string{"globex.example"}}))
	e.must(200, e.admin("PATCH", P+"/companies/acme", map[string]any{"email_domains": []string{"acme.example"}}))
	for _, g := range []string{"engineers", "finance"} {
		e.must(201, e.admin("POST", P+"/groups", map[string]any{"name": g}))
	}
	e.must(200, e.admin("PUT", P+"/companies/globex/identity-provider", map[string]any{"issuer": "https://login.globex.example",
		"client_id": "gh", "client_secret": "s", "group_mapping": map[string]string{"Engineering": "engineers"}}))
	s := &scimEnv{env: e, P: P}
	var tok struct {
		Token   string `json:"token"`
		BaseURL string `json:"scim_base_url"`
	}
	for _, c := range []string{"globex", "acme"} {
		e.must(201, e.admin("POST", P+"/companies/"+c+"/scim-token", nil)).json(t, &tok)
		u, err := url.Parse(tok.BaseURL)
		if err != nil {
			t.Fatal(err)
		}
		if c == "globex" {
			s.globex, s.gBearer = u.Path, "Bearer "+tok.Token
		} else {
			s.acme, s.aBearer = u.Path, "Bearer "+tok.Token
		}
	}
	return s
}

// scimDo sends a SCIM request with extra headers (If-Match).
func (s *scimEnv) scimDo(method, path, bearer string, body any, hdr ...string) response {
	s.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("Authorization", bearer)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return s.send(req)
}

type scimFullUser struct {
	ID         string `json:"id"`
	ExternalID string `json:"externalId"`
	UserName   string `json:"userName"`
	Active     bool   `json:"active"`
	Meta       struct {
		Version string `json:"version"`
	} `json:"meta"`
}

type scimUserList struct {
	Total      int            `json:"totalResults"`
	StartIndex int            `json:"startIndex"`
	PerPage    int            `json:"itemsPerPage"`
	Resources  []scimFullUser `json:"Resources"`
}

type scimErr struct {
	Status   string `json:"status"`
	ScimType string `json:"scimType"`
	Detail   string `json:"detail"`
}

func (s *scimEnv) list(base, bearer, filter string) scimUserList {
	s.t.Helper()
	var l scimUserList
	s.must(200, s.do("GET", base+"/Users?filter="+url.QueryEscape(filter), bearer, nil)).json(s.t, &l)
	return l
}

func (s *scimEnv) wantSCIMErr(r response, status int, scimType string) {
	s.t.Helper()
	var e scimErr
	s.must(status, r).json(s.t, &e)
	if e.ScimType != scimType || e.Detail == "" {
		s.t.Fatalf("error %+v, want scimType %q", e, scimType)
	}
}

func (s *scimEnv) create(base, bearer string, body map[string]any) scimFullUser {
	s.t.Helper()
	var u scimFullUser
	s.must(201, s.scimDo("POST", base+"/Users", bearer, body)).json(s.t, &u)
	return u
}

// TestSCIMFiltersAndETags: the filters IdPs send (externalId,
// emails[type eq "work"].value, and/or/not, meta.lastModified), paging
// with startIndex/count, RFC 7644's scimType on a bad filter, uniqueness
// of externalId, and ETags: If-Match with an old version is refused
// (412) and changes nothing; If-None-Match with the current one is 304.
func TestSCIMFiltersAndETags(t *testing.T) {
	t.Parallel()
	s := setupSCIM(t)
	G, gb := s.globex, s.gBearer
	ann := s.create(G, gb, map[string]any{"userName": "ann@globex.example", "externalId": "00uANN",
		"name": map[string]string{"givenName": "Ann", "familyName": "Lee"}, "emails": []map[string]any{{"value": "ann@globex.example", "type": "work", "primary": true}}})
	if ann.ExternalID != "00uANN" || ann.Meta.Version == "" {
		t.Fatalf("created %+v", ann)
	}
	s.wantSCIMErr(s.scimDo("POST", G+"/Users", gb, map[string]any{"userName": "bea@globex.example", "externalId": "00uANN"}), 409, "uniqueness")
	if l := s.list(G, gb, `userName eq "bea@globex.example"`); l.Total != 0 {
		t.Fatalf("a refused create left %+v", l)
	}
	for filter, want := range map[string][]string{
		`externalId eq "00uANN"`:                                      {"ann@globex.example"},
		`emails[type eq "work"].value eq "ANN@globex.example"`:        {"ann@globex.example"},
		`emails.value ew "@globex.example" and name.givenName pr`:     {"ann@globex.example"},
		`userName sw "g" and not (userName eq "gia@globex.example")`:  {"gil@globex.example", "gus@globex.example"},
		`(userName co "gil" or userName co "gus") and active eq true`: {"gil@globex.example", "gus@globex.example"},
		`externalId pr or userName eq "gia@globex.example"`:           {"ann@globex.example", "gia@globex.example"},
		`meta.lastModified gt "2000-01-01T00:00:00Z"`:                 {"ann@globex.example", "gia@globex.example", "gil@globex.example", "gus@globex.example"},
		`meta.lastModified lt "2000-01-01T00:00:00Z"`:                 nil,
	} {
		l := s.list(G, gb, filter)
		var got []string
		for _, u := range l.Resources {
			got = append(got, u.UserName)
		}
		slices.Sort(got)
		if l.Total != len(want) || !slices.Equal(got, want) {
			t.Errorf("%s: %d %v, want %v", filter, l.Total, got, want)
		}
	}
	var page scimUserList
	s.must(200, s.do("GET", G+"/Users?startIndex=2&count=2", gb, nil)).json(t, &page)
	if page.Total != 4 || page.StartIndex != 2 || page.PerPage != 2 || len(page.Resources) != 2 {
		t.Fatalf("page %+v", page)
	}
	s.must(200, s.do("GET", G+"/Users?count=0", gb, nil)).json(t, &page)
	if page.Total != 4 || len(page.Resources) != 0 {
		t.Fatalf("count=0 %+v", page)
	}
	s.wantSCIMErr(s.do("GET", G+"/Users?filter="+url.QueryEscape(`password eq "x"`), gb, nil), 400, "invalidFilter")
	s.wantSCIMErr(s.do("GET", G+"/Users?filter="+url.QueryEscape(`userName eq "a" or (`), gb, nil), 400, "invalidFilter")
	s.wantSCIMErr(s.do("GET", G+"/Users?filter="+url.QueryEscape(strings.Repeat(`userName eq "a" or `, 80)+`active eq true`), gb, nil), 400, "tooMany")
	s.wantSCIMErr(s.do("GET", G+"/Users?startIndex=x", gb, nil), 400, "invalidValue")

	// ETags.
	r := s.must(200, s.do("GET", G+"/Users/"+ann.ID, gb, nil))
	etag := r.header.Get("ETag")
	if etag == "" || etag != ann.Meta.Version {
		t.Fatalf("ETag %q, version %q", etag, ann.Meta.Version)
	}
	s.must(304, s.scimDo("GET", G+"/Users/"+ann.ID, gb, nil, "If-None-Match", etag))
	var patched scimFullUser
	s.must(200, s.scimDo("PATCH", G+"/Users/"+ann.ID, gb, map[string]any{"Operations": []map[string]any{
		{"op": "replace", "path": "externalId", "value": "00uANN2"}}}, "If-Match", etag)).json(t, &patched)
	if patched.ExternalID != "00uANN2" || patched.Meta.Version == etag {
		t.Fatalf("patched %+v", patched)
	}
	s.must(412, s.scimDo("PUT", G+"/Users/"+ann.ID, gb, map[string]any{"userName": "ann@globex.example", "active": false}, "If-Match", etag))
	s.must(412, s.scimDo("DELETE", G+"/Users/"+ann.ID, gb, nil, "If-Match", etag))
	if l := s.list(G, gb, `externalId eq "00uANN2" and active eq true`); l.Total != 1 {
		t.Fatalf("a refused write changed ann: %+v", l)
	}
	s.must(204, s.scimDo("DELETE", G+"/Users/"+ann.ID, gb, nil, "If-Match", patched.Meta.Version))

	// Discovery answers what is supported.
	var cfg struct {
		Etag   struct{ Supported bool } `json:"etag"`
		Filter struct {
			Supported  bool `json:"supported"`
			MaxResults int  `json:"maxResults"`
		} `json:"filter"`
		Bulk struct{ Supported bool } `json:"bulk"`
	}
	s.must(200, s.do("GET", G+"/ServiceProviderConfig", gb, nil)).json(t, &cfg)
	if !cfg.Etag.Supported || !cfg.Filter.Supported || cfg.Filter.MaxResults != 1000 || cfg.Bulk.Supported {
		t.Fatalf("config %+v", cfg)
	}
	var rts scimUserList
	s.must(200, s.do("GET", G+"/ResourceTypes", gb, nil)).json(t, &rts)
	if rts.Total != 2 {
		t.Fatalf("resource types %+v", rts)
	}
	s.must(200, s.do("GET", G+"/ResourceTypes/Group", gb, nil))
	sch := s.must(200, s.do("GET", G+"/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", gb, nil))
	if !strings.Contains(string(sch.body), `"externalId"`) {
		t.Fatalf("schema %s", sch.body)
	}
	s.must(404, s.do("GET", G+"/Schemas/urn:nope", gb, nil))
	s.must(401, s.do("GET", G+"/Schemas", "", nil))
}

// TestSCIMCompanyScopeAttacks: Globex's token cannot see, read, replace,
// patch or delete Acme's member, whatever the filter ("or" tricks); the
// company attribute and email_verified are not SCIM's to write; an
// externalId Acme uses is free for Globex (unique per company only).
func TestSCIMCompanyScopeAttacks(t *testing.T) {
	t.Parallel()
	s := setupSCIM(t)
	ada := s.create(s.acme, s.aBearer, map[string]any{"userName": "ada@acme.example", "externalId": "00uX"})
	G, gb := s.globex, s.gBearer
	for _, f := range []string{
		`userName eq "ada@acme.example"`,
		`userName eq "ada@acme.example" or userName pr`,
		`id eq "` + ada.ID + `" or not (id eq "x")`,
		`externalId eq "00uX" or (externalId pr and not (externalId pr))`,
		`emails[value co "acme"] or userName co "acme"`,
	} {
		for _, u := range s.list(G, gb, f).Resources {
			if u.ID == ada.ID || strings.Contains(u.UserName, "acme") {
				t.Fatalf("%s: Globex's token saw %+v", f, u)
			}
		}
	}
	s.must(404, s.do("GET", G+"/Users/"+ada.ID, gb, nil))
	s.must(404, s.do("PUT", G+"/Users/"+ada.ID, gb, map[string]any{"userName": "ada@acme.example", "active": false}))
	s.must(404, s.do("PATCH", G+"/Users/"+ada.ID, gb, map[string]any{"Operations": []map[string]any{{"op": "replace", "path": "active", "value": false}}}))
	s.must(404, s.do("DELETE", G+"/Users/"+ada.ID, gb, nil))
	if l := s.list(s.acme, s.aBearer, `active eq true`); l.Total != 1 || l.Resources[0].ID != ada.ID {
		t.Fatalf("ada after Globex's attempts: %+v", l)
	}
	// An address of Acme's domain cannot be created by Globex's token.
	s.wantSCIMErr(s.do("POST", G+"/Users", gb, map[string]any{"userName": "ada2@acme.example"}), 400, "invalidValue")

	// Authority is not SCIM's to write: the company attribute and
	// email_verified sent by the IdP are ignored on create, refused on PATCH.
	bo := s.create(G, gb, map[string]any{"userName": "bo@globex.example", "externalId": "00uX",
		"custom:company_name": "Acme", "email_verified": "false",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]string{"organization": "Acme"}})
	var got struct {
		EmailVerified bool              `json:"email_verified"`
		Attributes    map[string]string `json:"attributes"`
	}
	s.must(200, s.admin("GET", s.P+"/users/bo%40globex.example", nil)).json(t, &got)
	if got.Attributes["custom:company_name"] != "Globex" || !got.EmailVerified {
		t.Fatalf("bo's attributes %v", got.Attributes)
	}
	for _, op := range []map[string]any{
		{"op": "replace", "path": "custom:company_name", "value": "Acme"},
		{"op": "replace", "value": map[string]any{"custom:company_name": "Acme"}},
		{"op": "replace", "path": "emails", "value": []map[string]string{{"value": "bo@acme.example"}}},
		{"op": "replace", "path": "userName", "value": "bo@acme.example"},
		{"op": "add", "path": "groups", "value": []map[string]string{{"value": "engineers"}}},
	} {
		r := s.do("PATCH", G+"/Users/"+bo.ID, gb, map[string]any{"Operations": []map[string]any{op}})
		if r.status != 400 {
			t.Fatalf("%v: %d %s", op, r.status, r.body)
		}
	}
	s.must(200, s.admin("GET", s.P+"/users/bo%40globex.example", nil)).json(t, &got)
	if got.Attributes["custom:company_name"] != "Globex" || !got.EmailVerified {
		t.Fatalf("bo after refused patches %v", got.Attributes)
	}
}

type scimGroup struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	ExternalID  string `json:"externalId"`
	Members     []struct {
		Value string `json:"value"`
	} `json:"members"`
	Meta struct {
		Version string `json:"version"`
	} `json:"meta"`
}

func (g scimGroup) has(id string) bool {
	return slices.ContainsFunc(g.Members, func(m struct {
		Value string `json:"value"`
	}) bool {
		return m.Value == id
	})
}

// TestSCIMGroups: Globex's IdP pushes "Engineering" (mapped by the pool
// admin to the pool group engineers) with members, patches members in
// Okta's and Entra ID's forms, replaces and deletes it; the pool group
// follows. Refused and changing nothing: a group the mapping does not
// give (finance, the company's own group by name, the admin group), a
// member of Acme, a write to the company's own group, Acme's token on
// Globex's group, a stale If-Match.
func TestSCIMGroups(t *testing.T) {
	t.Parallel()
	s := setupSCIM(t)
	G, gb := s.globex, s.gBearer
	ids := map[string]string{}
	for _, n := range []string{"gil", "gus"} {
		ids[n] = s.list(G, gb, `userName eq "`+n+`@globex.example"`).Resources[0].ID
	}
	ada := s.create(s.acme, s.aBearer, map[string]any{"userName": "ada@acme.example"})

	for _, name := range []string{"engineers", "finance", "Globex", "Acme", "admins"} {
		s.wantSCIMErr(s.do("POST", G+"/Groups", gb, map[string]any{"displayName": name}), 400, "invalidValue")
	}
	s.wantSCIMErr(s.do("POST", G+"/Groups", gb, map[string]any{"displayName": "Engineering",
		"members": []map[string]string{{"value": ids["gil"]}, {"value": ada.ID}}}), 400, "invalidValue")
	if g := s.userGroups(s.P, "gil@globex.example"); slices.Contains(g, "engineers") {
		t.Fatalf("a refused create left gil in %v", g)
	}

	var eng scimGroup
	s.must(201, s.do("POST", G+"/Groups", gb, map[string]any{"displayName": "Engineering", "externalId": "okta-eng",
		"members": []map[string]string{{"value": ids["gil"]}}})).json(t, &eng)
	if eng.ID == "" || !eng.has(ids["gil"]) || eng.ExternalID != "okta-eng" {
		t.Fatalf("created %+v", eng)
	}
	if g := s.userGroups(s.P, "gil@globex.example"); !slices.Contains(g, "engineers") {
		t.Fatalf("gil's groups %v", g)
	}
	s.wantSCIMErr(s.do("POST", G+"/Groups", gb, map[string]any{"displayName": "engineering"}), 409, "uniqueness")

	// Entra ID adds gus; Okta removes gil by path.
	s.must(200, s.do("PATCH", G+"/Groups/"+eng.ID, gb, map[string]any{"Operations": []map[string]any{
		{"op": "Add", "path": "members", "value": []map[string]string{{"value": ids["gus"]}}}}})).json(t, &eng)
	s.must(200, s.do("PATCH", G+"/Groups/"+eng.ID, gb, map[string]any{"Operations": []map[string]any{
		{"op": "remove", "path": `members[value eq "` + ids["gil"] + `"]`}}})).json(t, &eng)
	if eng.has(ids["gil"]) || !eng.has(ids["gus"]) {
		t.Fatalf("after patches %+v", eng)
	}
	if g := s.userGroups(s.P, "gil@globex.example"); slices.Contains(g, "engineers") {
		t.Fatalf("gil still in %v", g)
	}
	// Acme's member cannot be added; nothing changes.
	s.wantSCIMErr(s.do("PATCH", G+"/Groups/"+eng.ID, gb, map[string]any{"Operations": []map[string]any{
		{"op": "add", "path": "members", "value": []map[string]string{{"value": ids["gil"]}, {"value": ada.ID}}}}}), 400, "invalidValue")
	if g := s.userGroups(s.P, "ada@acme.example"); slices.Contains(g, "engineers") {
		t.Fatalf("ada in %v", g)
	}
	if g := s.userGroups(s.P, "gil@globex.example"); slices.Contains(g, "engineers") {
		t.Fatalf("a refused patch added gil: %v", g)
	}
	// Renaming to a name the mapping does not give is refused.
	s.wantSCIMErr(s.do("PATCH", G+"/Groups/"+eng.ID, gb, map[string]any{"Operations": []map[string]any{
		{"op": "replace", "path": "displayName", "value": "finance"}}}), 400, "invalidValue")
	// The company's own group is read-only.
	var own scimGroup
	var gl struct {
		Total     int         `json:"totalResults"`
		Resources []scimGroup `json:"Resources"`
	}
	s.must(200, s.do("GET", G+"/Groups", gb, nil)).json(t, &gl)
	if gl.Total != 2 {
		t.Fatalf("groups %+v", gl)
	}
	own = gl.Resources[0]
	s.wantSCIMErr(s.do("PATCH", G+"/Groups/"+url.PathEscape(own.ID), gb, map[string]any{"Operations": []map[string]any{
		{"op": "add", "path": "members", "value": []map[string]string{{"value": ada.ID}}}}}), 400, "mutability")
	s.wantSCIMErr(s.do("DELETE", G+"/Groups/"+url.PathEscape(own.ID), gb, nil), 400, "mutability")
	s.must(200, s.do("GET", G+"/Groups?filter="+url.QueryEscape(`displayName eq "Engineering"`)+"&excludedAttributes=members", gb, nil)).json(t, &gl)
	if gl.Total != 1 || gl.Resources[0].ID != eng.ID || len(gl.Resources[0].Members) != 0 {
		t.Fatalf("filtered groups %+v", gl)
	}
	// Acme's token does not reach Globex's group.
	s.must(404, s.do("GET", s.acme+"/Groups/"+eng.ID, s.aBearer, nil))
	s.must(404, s.do("PATCH", s.acme+"/Groups/"+eng.ID, s.aBearer, map[string]any{"Operations": []map[string]any{
		{"op": "add", "path": "members", "value": []map[string]string{{"value": ada.ID}}}}}))
	s.must(404, s.do("DELETE", s.acme+"/Groups/"+eng.ID, s.aBearer, nil))

	// Replace with If-Match; a stale version is refused.
	stale, engID := eng.Meta.Version, eng.ID
	eng = scimGroup{}
	s.must(200, s.scimDo("PUT", G+"/Groups/"+engID, gb, map[string]any{"displayName": "Engineering",
		"members": []map[string]string{{"value": ids["gil"]}}}, "If-Match", stale)).json(t, &eng)
	if !eng.has(ids["gil"]) || eng.has(ids["gus"]) || eng.ExternalID != "" {
		t.Fatalf("replaced %+v", eng)
	}
	s.must(412, s.scimDo("DELETE", G+"/Groups/"+eng.ID, gb, nil, "If-Match", stale))
	s.must(204, s.do("DELETE", G+"/Groups/"+eng.ID, gb, nil))
	if g := s.userGroups(s.P, "gil@globex.example"); slices.Contains(g, "engineers") {
		t.Fatalf("deleting the group left gil in %v", g)
	}
	s.must(404, s.do("GET", G+"/Groups/"+eng.ID, gb, nil))
	s.must(200, s.admin("GET", s.P+"/groups/engineers", nil)) // the pool group stays
}
