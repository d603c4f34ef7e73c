package server

import (
	"bytes"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestPage checks the page's files: served at their routes with their types, the strict
// Content-Security-Policy and the other security headers, revalidated by ETag, and nothing in
// them that loads from another origin (the service must work air-gapped).
func TestPage(t *testing.T) {
	ts := newTestServer(t, nil, false)
	for _, c := range []struct{ path, ctype, contains string }{
		{"/", "text/html; charset=utf-8", `<script src="page.js" defer></script>`},
		{"/page.js", "text/javascript; charset=utf-8", "/v1/explain.png"},
		{"/page.css", "text/css; charset=utf-8", ".error"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
	} {
		resp, body := do(t, http.DefaultClient, "GET", ts.http.URL+c.path, "", nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", c.path, resp.StatusCode, body)
		}
		h := resp.Header
		for k, want := range map[string]string{
			"Content-Type":            c.ctype,
			"Content-Security-Policy": pageCSP,
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("GET %s: %s %q, want %q", c.path, k, got, want)
			}
		}
		if !bytes.Contains(body, []byte(c.contains)) {
			t.Errorf("GET %s: no %q in the body", c.path, c.contains)
		}
		etag := h.Get("ETag")
		resp, _ = do(t, http.DefaultClient, "GET", ts.http.URL+c.path, "", nil, map[string]string{"If-None-Match": etag})
		if etag == "" || resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s: %d, want 304", c.path, etag, resp.StatusCode)
		}
		resp, body = do(t, http.DefaultClient, "HEAD", ts.http.URL+c.path, "", nil, nil)
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("HEAD %s: %d with %d bytes", c.path, resp.StatusCode, len(body))
		}
	}
	resp, body := do(t, http.DefaultClient, "POST", ts.http.URL+"/", "text/plain", nil, nil)
	wantError(t, resp, body, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
	resp, body = do(t, http.DefaultClient, "GET", ts.http.URL+"/index.html", "", nil, nil)
	wantError(t, resp, body, http.StatusNotFound, CodeNotFound)

	// The CSP: nothing but this origin, no inline script or style, no eval.
	for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'", "http:", "https:", "data:", "*"} {
		if strings.Contains(pageCSP, bad) {
			t.Errorf("the Content-Security-Policy allows %s", bad)
		}
	}
	// The files: no URL of another origin, no inline script or style (the CSP would block
	// them), no event handler attributes.
	external := regexp.MustCompile(`(https?:)?//[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}|@import|\burl\(`)
	inline := regexp.MustCompile(`(?i)<script>|<script [^>]*>[^<]|<style|\son[a-z]+=|style="|javascript:`)
	fs.WalkDir(pageFiles, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := pageFiles.ReadFile(p)
		if p == "page/favicon.svg" {
			b = bytes.ReplaceAll(b, []byte(`xmlns="http://www.w3.org/2000/svg"`), nil) // a namespace, not a load
		}
		if m := external.Find(b); m != nil {
			t.Errorf("%s refers to another origin: %q", p, m)
		}
		if m := inline.Find(b); m != nil {
			t.Errorf("%s has inline code the CSP blocks: %q", p, m)
		}
		return nil
	})
}

// TestPageOff checks Config.Page false: the page's paths are 404, the API is the same.
func TestPageOff(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Page = false }, false)
	for _, p := range []string{"/", "/page.js", "/page.css", "/favicon.svg"} {
		resp, body := do(t, http.DefaultClient, "GET", ts.http.URL+p, "", nil, nil)
		wantError(t, resp, body, http.StatusNotFound, CodeNotFound)
		if strings.Contains(string(body), "the page") {
			t.Errorf("GET %s: the 404 offers the page: %s", p, body)
		}
	}
	ct, body := multipartBody(t, nil, pngImage(t, 64, 48, 1))
	resp, b := do(t, http.DefaultClient, "POST", ts.http.URL+"/v1/encode", ct, body, nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST /v1/encode without the page: %d %s", resp.StatusCode, b)
	}
	m := metricsText(t, ts.Server)
	if !strings.Contains(m, `route="other",code="404"`) {
		t.Errorf("the page's paths are not counted as other 404s:\n%s", m)
	}
}
