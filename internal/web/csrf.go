package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// CSRFCookie is the double-submit cookie. The __Host- prefix makes the
// browser refuse it unless Secure, Path=/ and without Domain, so a
// sibling subdomain cannot plant one.
const CSRFCookie = "__Host-gatehouse_csrf"

// csrfToken returns the form token for the request's cookie (setting a new
// cookie if there is none).
func (w *Web) csrfToken(rw http.ResponseWriter, r *http.Request) (string, error) {
	return w.csrfTokenFor(rw, r, r.URL.Path)
}

// csrfCookieName is CSRFCookie, or DevCSRFCookie when the base URL is
// plain http (see session.go).
func (w *Web) csrfCookieName() string {
	if w.secureCookies() {
		return CSRFCookie
	}
	return DevCSRFCookie
}

// DevCSRFCookie is the CSRF cookie's name over plain http (development).
const DevCSRFCookie = "gatehouse_csrf"

// csrfTokenFor returns the form token of a form that posts to action.
func (w *Web) csrfTokenFor(rw http.ResponseWriter, r *http.Request, action string) (string, error) {
	v := ""
	if c, err := r.Cookie(w.csrfCookieName()); err == nil && len(c.Value) == 43 {
		v = c.Value
	}
	if v == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		v = base64.RawURLEncoding.EncodeToString(b)
		// The new value also serves this request's other forms.
		r.AddCookie(&http.Cookie{Name: w.csrfCookieName(), Value: v})
		http.SetCookie(rw, &http.Cookie{Name: w.csrfCookieName(), Value: v, Path: "/", Secure: w.secureCookies(), HttpOnly: true,
			SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	}
	return w.csrfMAC(v, action), nil
}

func (w *Web) csrfMAC(cookie, path string) string {
	m := hmac.New(sha256.New, w.opts.CSRFKey)
	m.Write([]byte(cookie))
	m.Write([]byte{'|'})
	m.Write([]byte(path))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether the POST carries a form token matching its
// cookie for this path, and was not sent cross-site.
func (w *Web) checkCSRF(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	c, err := r.Cookie(w.csrfCookieName())
	if err != nil || c.Value == "" {
		return false
	}
	got := r.PostFormValue("csrf")
	if got == "" {
		return false
	}
	return hmac.Equal([]byte(got), []byte(w.csrfMAC(c.Value, r.URL.Path)))
}
