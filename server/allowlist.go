package server

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// allowList is Config.AllowURLs parsed: the URL prefixes whose images the server fetches.
// An empty list fetches nothing.
type allowList []urlPrefix

// urlPrefix is one entry of the allow-list.
type urlPrefix struct {
	urlKey
	wildcard bool   // "*.example.com": any subdomain of host, at any depth (not host itself)
	entry    string // as configured
}

// urlKey is the normalised form of a URL that matching compares: scheme and host in lower
// case, the host without IPv6 brackets or a trailing dot, the port in decimal (the scheme's
// default when absent), the path percent-decoded with its dot segments resolved.
type urlKey struct {
	scheme, host, port, path string
}

// errNoHost and the other refusals of canonical are worded for a message "URL …: <error>".
var errNoHost = errors.New("has no host")

// canonical checks that u is an absolute http or https URL without user info and returns
// its key. A path with an encoded slash or backslash, or a raw backslash, is refused: servers
// disagree on what they mean, so no prefix could be said to contain them.
func canonical(u *url.URL) (urlKey, error) {
	var k urlKey
	k.scheme = strings.ToLower(u.Scheme)
	switch {
	case k.scheme == "":
		return k, errors.New("is not absolute (no scheme)")
	case k.scheme != "http" && k.scheme != "https":
		return k, fmt.Errorf("has scheme %s: only http and https URLs are fetched", k.scheme)
	case u.Opaque != "":
		return k, errors.New("has no //host")
	case u.User != nil:
		return k, errors.New("has user info (user:password@ before the host), which is refused")
	}
	k.host = strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if k.host == "" {
		return k, errNoHost
	}
	k.port = u.Port()
	if k.port == "" {
		k.port = map[string]string{"http": "80", "https": "443"}[k.scheme]
	} else {
		n, err := strconv.Atoi(k.port)
		if err != nil || n < 1 || n > 65535 {
			return k, fmt.Errorf("has port %s, not in 1…65535", k.port)
		}
		k.port = strconv.Itoa(n)
	}
	esc := strings.ToLower(u.EscapedPath())
	if strings.Contains(esc, "%2f") || strings.Contains(esc, "%5c") || strings.Contains(u.Path, `\`) {
		return k, errors.New("has an encoded slash or a backslash in its path, which is refused")
	}
	k.path = cleanPath(u.Path)
	return k, nil
}

// cleanPath resolves the dot segments and repeated slashes of p, keeping a trailing slash;
// "" is "/".
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean("/" + p)
	if c != "/" && (strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")) {
		c += "/"
	}
	return c
}

// parseAllowList parses Config.AllowURLs; the error names the first bad entry.
func parseAllowList(entries []string) (allowList, error) {
	var a allowList
	for _, e := range entries {
		p, err := parsePrefix(e)
		if err != nil {
			return nil, err
		}
		a = append(a, p)
	}
	return a, nil
}

// parsePrefix parses one entry: an absolute http(s) URL without user info, query or
// fragment, whose host may start with "*." (any subdomain of the rest).
func parsePrefix(s string) (urlPrefix, error) {
	p := urlPrefix{entry: s}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return p, fmt.Errorf("%q is not a URL: %v", s, strings.TrimPrefix(err.Error(), "parse "))
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return p, fmt.Errorf("%q has a query or a fragment: an entry is a scheme, a host and a path prefix", s)
	}
	k, err := canonical(u)
	if err != nil {
		return p, fmt.Errorf("%q %v", s, err)
	}
	if rest, ok := strings.CutPrefix(k.host, "*."); ok {
		if rest == "" || strings.Contains(rest, "*") || strings.HasPrefix(rest, ".") || strings.Contains(rest, "..") {
			return p, fmt.Errorf("%q has a bad wildcard host: write *.example.com", s)
		}
		if _, err := netip.ParseAddr(rest); err == nil {
			return p, fmt.Errorf("%q has a wildcard on an IP address", s)
		}
		k.host, p.wildcard = rest, true
	} else if strings.Contains(k.host, "*") {
		return p, fmt.Errorf("%q has a * in its host other than a leading *.", s)
	}
	p.urlKey = k
	return p, nil
}

// allows reports whether k is under one of the prefixes.
func (a allowList) allows(k urlKey) bool {
	for _, p := range a {
		if p.matches(k) {
			return true
		}
	}
	return false
}

// matches reports whether k is under p: the same scheme and port, the same host (or, for a
// wildcard, a subdomain of it; never an IP address), and a path equal to p's or below it on
// a segment boundary ("/img" contains "/img" and "/img/a.png", not "/img-private").
func (p urlPrefix) matches(k urlKey) bool {
	if k.scheme != p.scheme || k.port != p.port {
		return false
	}
	if p.wildcard {
		if _, err := netip.ParseAddr(k.host); err == nil || !strings.HasSuffix(k.host, "."+p.host) {
			return false
		}
	} else if k.host != p.host {
		return false
	}
	switch {
	case p.path == "/" || k.path == p.path:
		return true
	case strings.HasSuffix(p.path, "/"):
		return strings.HasPrefix(k.path, p.path)
	}
	return strings.HasPrefix(k.path, p.path+"/")
}

// errNotAllowed is a URL that is well formed but under no prefix of the list.
var errNotAllowed = errors.New("is not under any of the URL prefixes this server fetches from")

// check parses raw, an image's URL, and returns the URL to request: the one matched, its
// path with dot segments resolved and without its fragment. The error says what is wrong
// with it, worded to follow "URL …".
func (a allowList) check(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("does not parse: %v", strings.TrimPrefix(err.Error(), "parse "))
	}
	u, err = a.checkURL(u)
	return u, err
}

// checkURL is check of a parsed URL; it does not change u.
func (a allowList) checkURL(u *url.URL) (*url.URL, error) {
	k, err := canonical(u)
	if err != nil {
		return nil, err
	}
	if !a.allows(k) {
		return nil, errNotAllowed
	}
	out := *u
	out.Fragment, out.RawFragment = "", ""
	if k.path != u.Path && !(u.Path == "" && k.path == "/") {
		out.Path, out.RawPath = k.path, ""
	}
	return &out, nil
}

// shownURL is u as messages show it: without its query (a signed URL's token), which is
// replaced by "?…".
func shownURL(u *url.URL) string {
	c := *u
	q := c.RawQuery != "" || c.ForceQuery
	c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = "", false, "", ""
	s := c.String()
	if q {
		s += "?…"
	}
	return s
}
