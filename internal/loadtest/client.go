package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// maxBody caps how much of a response body is read; Gatehouse's answers to
// the calls made here are a few KiB at most.
const maxBody = 1 << 20

// apiClient speaks Gatehouse's native JSON API over a pooled, proxy-free
// transport that never follows a redirect (so a response cannot steer the
// load anywhere but the loopback target).
type apiClient struct {
	base     string // without trailing slash
	adminKey string
	hc       *http.Client
	// The Cognito surface's admin operations (cognito.go).
	accessKeyID, secretAccessKey string
	signer                       *v4.Signer
}

func newAPIClient(base, adminKey string, conns int) *apiClient {
	tr := &http.Transport{
		Proxy:               nil, // never route loopback load through an HTTP(S)_PROXY
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     30 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	return &apiClient{
		signer:   newSigner(),
		base:     trimSlash(base),
		adminKey: adminKey,
		hc: &http.Client{
			Transport: tr,
			Timeout:   30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

func (c *apiClient) close() { c.hc.CloseIdleConnections() }

// httpError is a non-2xx answer. Code is the error code from the body when
// the body carries one (Gatehouse's native API answers {"code", "message"}
// or {"error": {"code", "message"}}).
type httpError struct {
	Method, Path string
	Status       int
	Code         string
	Body         string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// errorKey is the key a failed request is counted under in a phase's
// error table: "HTTP <status> <code>", or "transport" for a request that
// got no answer.
func errorKey(err error) string {
	var he *httpError
	if errors.As(err, &he) {
		if he.Code != "" {
			return fmt.Sprintf("%d %s", he.Status, he.Code)
		}
		return fmt.Sprintf("%d", he.Status)
	}
	return "transport"
}

// do sends body as JSON and decodes a 2xx answer into out (if non-nil). A
// non-2xx answer is an *httpError; a transport failure is returned as is.
func (c *apiClient) do(ctx context.Context, method, path string, admin bool, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if admin && c.adminKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.adminKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &httpError{Method: method, Path: path, Status: resp.StatusCode, Code: errorCode(data), Body: snippet(data)}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w (body: %s)", method, path, err, snippet(data))
		}
	}
	return nil
}

// errorCode pulls a stable error code out of an error body, accepting the
// flat {"code": ...} and the nested {"error": {"code": ...}} shapes, and
// OAuth2's {"error": "..."}.
func errorCode(body []byte) string {
	var flat struct {
		Code  string          `json:"code"`
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &flat) != nil {
		return ""
	}
	if flat.Code != "" {
		return flat.Code
	}
	if len(flat.Error) > 0 {
		var nested struct {
			Code string `json:"code"`
		}
		if json.Unmarshal(flat.Error, &nested) == nil && nested.Code != "" {
			return nested.Code
		}
		var s string
		if json.Unmarshal(flat.Error, &s) == nil {
			return s
		}
	}
	return ""
}

func snippet(b []byte) string {
	const n = 300
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// The native API's wire shapes used by the load run.

type signUpRequest struct {
	ClientID   string            `json:"client_id"`
	Username   string            `json:"username"`
	Password   string            `json:"password"`
	Attributes map[string]string `json:"attributes"`
}

type signInRequest struct {
	ClientID string `json:"client_id"`
	Username string `json:"username"`
	Password string `json:"password"`
}

type refreshRequest struct {
	ClientID     string `json:"client_id"`
	RefreshToken string `json:"refresh_token"`
}

type tokensResponse struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	TokenType    string `json:"token_type"`
}

func (c *apiClient) signIn(ctx context.Context, clientID, username, password string) (*tokensResponse, error) {
	var t tokensResponse
	if err := c.do(ctx, http.MethodPost, "/api/v1/auth/sign-in", false, signInRequest{clientID, username, password}, &t); err != nil {
		return nil, err
	}
	if t.AccessToken == "" {
		return nil, errors.New("sign-in answered 2xx without an access_token (a challenge?)")
	}
	return &t, nil
}

// Admin calls.

// createPool creates a pool and returns its id. It accepts the pool at the
// top level ({"id": ...}) or wrapped ({"pool": {"id": ...}}).
func (c *apiClient) createPool(ctx context.Context, name, alg string) (string, error) {
	var out struct {
		ID   string `json:"id"`
		Pool *struct {
			ID string `json:"id"`
		} `json:"pool"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/pools", true, map[string]any{"name": name, "signing_alg": alg}, &out); err != nil {
		return "", err
	}
	id := out.ID
	if id == "" && out.Pool != nil {
		id = out.Pool.ID
	}
	if id == "" {
		return "", errors.New("POST /api/v1/pools answered without a pool id")
	}
	return id, nil
}

// createClient creates a public app client allowing password and refresh
// flows and returns its id ({"client": {"id": ...}} or {"id": ...}). With
// staticRefresh its refresh tokens do not rotate (refresh_token_rotation
// false); else it has the server's default (rotation).
func (c *apiClient) createClient(ctx context.Context, pool, name string, staticRefresh bool) (string, error) {
	var out struct {
		ID     string `json:"id"`
		Client *struct {
			ID string `json:"id"`
		} `json:"client"`
	}
	body := map[string]any{
		"name":       name,
		"auth_flows": []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	}
	if staticRefresh {
		body["refresh_token_rotation"] = false
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/pools/"+url.PathEscape(pool)+"/clients", true, body, &out); err != nil {
		return "", err
	}
	id := out.ID
	if out.Client != nil && out.Client.ID != "" {
		id = out.Client.ID
	}
	if id == "" {
		return "", errors.New("POST /api/v1/pools/{pool}/clients answered without a client id")
	}
	return id, nil
}

// createUser creates a confirmed user with a permanent password: an admin
// create (no invitation email) followed by a permanent password set.
func (c *apiClient) createUser(ctx context.Context, pool, username, password string) error {
	p := "/api/v1/pools/" + url.PathEscape(pool) + "/users"
	body := map[string]any{
		"username":       username,
		"attributes":     map[string]string{"email": username, "email_verified": "true"},
		"message_action": "SUPPRESS",
	}
	if err := c.do(ctx, http.MethodPost, p, true, body, nil); err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, p+"/"+url.PathEscape(username)+"/password", true,
		map[string]any{"password": password, "permanent": true}, nil)
}

func (c *apiClient) deleteUser(ctx context.Context, pool, username string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/pools/"+url.PathEscape(pool)+"/users/"+url.PathEscape(username), true, nil, nil)
}

func (c *apiClient) deleteClient(ctx context.Context, pool, client string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/pools/"+url.PathEscape(pool)+"/clients/"+url.PathEscape(client), true, nil, nil)
}

func (c *apiClient) deletePool(ctx context.Context, pool string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/pools/"+url.PathEscape(pool), true, nil, nil)
}
