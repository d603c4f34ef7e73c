package server

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"time"
)

// The page of GET / (Config.Page): plain HTML, CSS and JavaScript in server/page, embedded in
// the binary, with no build step and nothing from another origin, so the service works
// air-gapped. It calls the API only: the pictures (POST /v1/explain.png, /v1/features.png),
// POST /v1/encode for the download, and with a whole model POST /v1/chat/completions.
//
//go:embed page/index.html page/page.css page/page.js page/favicon.svg
var pageFiles embed.FS

// pageCSP is the Content-Security-Policy of the page's files: nothing but this origin's
// scripts, styles and API; images from this origin and the page's own blob: URLs (the
// pictures and the preview are fetched, then shown from blobs); no frames, no forms posted,
// no plugins, no <base>.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"

// pageAsset is one embedded file served by the page's routes.
type pageAsset struct {
	body        []byte
	contentType string
	etag        string
}

// pageRoutes are the page's files by route.
var pageRoutes = func() map[string]pageAsset {
	types := map[string]string{
		".html": "text/html; charset=utf-8",
		".css":  "text/css; charset=utf-8",
		".js":   "text/javascript; charset=utf-8",
		".svg":  "image/svg+xml",
	}
	m := map[string]pageAsset{}
	for route, file := range map[string]string{"/": "index.html", "/page.css": "page.css", "/page.js": "page.js", "/favicon.svg": "favicon.svg"} {
		b, err := pageFiles.ReadFile("page/" + file)
		if err != nil {
			panic("server: the embedded page lacks " + file) // a build without the files: cannot happen with go:embed
		}
		sum := sha256.Sum256(b)
		m[route] = pageAsset{body: b, contentType: types[path.Ext(file)], etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return m
}()

// servePage answers GET (and HEAD) of one of the page's files, with the page's security
// headers; the files are revalidated by their ETag (they change with the binary only).
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, a pageAsset) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("Content-Type", a.contentType)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
