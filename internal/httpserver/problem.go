package httpserver

import (
	"encoding/json"
	"net/http"
)

// ProblemTypePrefix prefixes a problem's code to form its RFC 9457 type URI,
// e.g. "urn:gatehouse:problem:payload_too_large". The URN is stable and is
// not meant to be dereferenced; the code alone is what clients switch on.
const ProblemTypePrefix = "urn:gatehouse:problem:"

// Problem is an RFC 9457 problem details object. Code is Gatehouse's stable
// error code (identity.Code or a surface's own, e.g. "payload_too_large");
// Field names the input field at fault when there is one.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
	Field  string `json:"field,omitempty"`
	// RetryAfter: seconds to wait before trying again (throttles and
	// lockouts), also sent as the Retry-After header by the API.
	RetryAfter int    `json:"retry_after,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
}

// WriteProblem writes p as application/problem+json with p.Status. Empty
// Type, Title and RequestID are filled from Code, the status text and the
// request's id. Detail must be safe to show: it is sent as is.
func WriteProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
	}
	if p.Code == "" {
		p.Code = "internal"
	}
	if p.Type == "" {
		p.Type = ProblemTypePrefix + p.Code
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.RequestID == "" && r != nil {
		p.RequestID = RequestID(r.Context())
	}
	body, err := json.Marshal(p)
	if err != nil { // cannot happen: only strings and ints
		body = []byte(`{"type":"` + ProblemTypePrefix + `internal","title":"Internal Server Error","status":500,"code":"internal"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(body, '\n'))
}
