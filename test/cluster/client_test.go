package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// answer is one HTTP exchange as the load sees it. Status 0 is a
// transport failure (node down, connection cut).
type answer struct {
	Status  int
	Code    string
	Message string
	Body    []byte
}

func (a answer) ok() bool { return a.Status >= 200 && a.Status < 300 }

// key is how an answer is counted: "201", "503 unavailable", "transport".
func (a answer) key() string {
	switch {
	case a.Status == 0:
		return "transport"
	case a.Code != "":
		return fmt.Sprintf("%d %s", a.Status, a.Code)
	}
	return fmt.Sprint(a.Status)
}

var httpc = &http.Client{
	Timeout: 15 * time.Second,
	Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     5 * time.Second,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// call sends body as JSON to base+path and decodes a 2xx answer into out.
func call(ctx context.Context, base, method, path, bearer string, body, out any) answer {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return answer{}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return answer{}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}
	}
	a := answer{Status: resp.StatusCode, Body: data}
	if !a.ok() {
		var p struct {
			Code    string `json:"code"`
			Detail  string `json:"detail"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &p)
		a.Code, a.Message = p.Code, p.Detail
		if a.Message == "" {
			a.Message = p.Message
		}
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
			a.Code += " (no Retry-After)"
		}
	} else if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			a.Status, a.Code = 599, "undecodable"
		}
	}
	return a
}

// tally counts answers per operation.
type tally struct {
	mu sync.Mutex
	m  map[string]map[string]int
}

func (t *tally) add(op string, a answer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]map[string]int{}
	}
	if t.m[op] == nil {
		t.m[op] = map[string]int{}
	}
	t.m[op][a.key()]++
}

// countAll counts answers of every op (except those in skip) whose key
// starts with prefix.
func (t *tally) countAll(prefix string, skip ...string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for op, m := range t.m {
		if slices.Contains(skip, op) {
			continue
		}
		for k, v := range m {
			if strings.HasPrefix(k, prefix) {
				n += v
			}
		}
	}
	return n
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	ops := make([]string, 0, len(t.m))
	for op := range t.m {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var b strings.Builder
	for _, op := range ops {
		keys := make([]string, 0, len(t.m[op]))
		for k := range t.m[op] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "  %-14s", op)
		for _, k := range keys {
			fmt.Fprintf(&b, " [%s]=%d", k, t.m[op][k])
		}
		b.WriteByte('\n')
	}
	return b.String()
}
