package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// TestAPIDocsServed: the reference page and its files come from the
// binary with a policy that allows this origin only; other names are 404.
func TestAPIDocsServed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.must(200, e.do("GET", "/api/v1/docs", "", nil))
	csp := r.header.Get("Content-Security-Policy")
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), `src="docs/swagger-ui-bundle.js"`) ||
		!strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") {
		t.Fatalf("page: %s %v", r.body, r.header)
	}
	for _, f := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "gatehouse.js", "gatehouse.css", "favicon-32x32.png", "LICENSE"} {
		if r := e.must(200, e.do("GET", "/api/v1/docs/"+f, "", nil)); len(r.body) == 0 {
			t.Fatalf("%s is empty", f)
		}
	}
	for _, f := range []string{"index.html", "README.md", "nope.js", "..%2Fopenapi.yaml"} {
		if p := e.must(404, e.do("GET", "/api/v1/docs/"+f, "", nil)).problem(t); p.Code != "resource_not_found" {
			t.Fatalf("%s: %+v", f, p)
		}
	}
}

// TestAPIDocsPageInChromium: headless Chromium renders the reference
// from openapi.json with every operation listed, no error in the console
// (a Content-Security-Policy violation is one) and no request to any
// other origin. Screenshot: $GATEHOUSE_SCREENSHOTS/api-docs.png.
func TestAPIDocsPageInChromium(t *testing.T) {
	path := testenv.Chromium(t)
	e := setup(t)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(1200, 900), chromedp.UserDataDir(t.TempDir()))
	defer cancel()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 5*time.Minute) // a bound against a hung browser, not a threshold (as internal/oidc)
	defer cancel()

	var mu sync.Mutex
	var problems, requests []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				problems = append(problems, string(ev.Entry.Source)+": "+ev.Entry.Text)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console.error")
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text)
		case *network.EventRequestWillBeSent:
			requests = append(requests, ev.Request.URL)
		}
	}); err != nil {
		t.Fatal(err)
	}
	enable := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, cdplog.Enable, cdp.Empty{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{})
		return err
	})
	if err := chromedp.Do(ctx, enable, chromedp.Navigate(e.srv.URL+"/api/v1/docs"),
		chromedp.WaitVisible(chromedp.CSS(".opblock"))); err != nil {
		t.Fatal(err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".opblock").length`))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "gatehouse-screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err == nil {
		_ = os.WriteFile(filepath.Join(shots, "api-docs.png"), png, 0o644)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := len(checker(t).Patterns()); n != want {
		t.Errorf("the page lists %d operations, the document %d", n, want)
	}
	if len(problems) > 0 {
		t.Errorf("console: %q", problems)
	}
	for _, u := range requests {
		if !strings.HasPrefix(u, e.srv.URL+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("a request left the server: %s", u)
		}
	}
	if len(requests) < 3 {
		t.Errorf("requests seen: %q", requests)
	}
}
