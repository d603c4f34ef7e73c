package server

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// TestAllowList matches URLs against a list: scheme, host and port exactly (in lower case,
// default ports normalised), wildcards for subdomains only, paths on segment boundaries after
// the dot segments are resolved; user info, other schemes and encoded slashes refused.
func TestAllowList(t *testing.T) {
	allow, err := parseAllowList([]string{
		"https://cdn.example.com/",
		"https://a.example/img",
		"http://b.example:8080/pics/",
		"https://*.imgs.example/",
		"http://[2001:db8::1]/x",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		url  string
		want string // the URL requested, or "!" and a part of the error
	}{
		{"https://cdn.example.com/a.png", "https://cdn.example.com/a.png"},
		{"https://cdn.example.com", "https://cdn.example.com"},
		{"HTTPS://CDN.Example.COM:443/a.png?sig=1#frag", "https://CDN.Example.COM:443/a.png?sig=1"},
		{"https://cdn.example.com./a.png", "https://cdn.example.com./a.png"},
		{"https://cdn.example.com:8443/a.png", "!not under"},
		{"http://cdn.example.com/a.png", "!not under"},
		{"https://sub.cdn.example.com/a.png", "!not under"},
		{"https://cdn.example.com.evil.example/a.png", "!not under"},
		{"https://a.example/img", "https://a.example/img"},
		{"https://a.example/img/", "https://a.example/img/"},
		{"https://a.example/img/x/y.png", "https://a.example/img/x/y.png"},
		{"https://a.example/img-private/y.png", "!not under"},
		{"https://a.example/imgx", "!not under"},
		{"https://a.example/IMG/y.png", "!not under"},
		{"https://a.example/img/../img-private/y.png", "!not under"},
		{"https://a.example/img/%2e%2e/img-private/y.png", "!not under"},
		{"https://a.example/img/./x/../y.png", "https://a.example/img/y.png"},
		{"https://a.example//img/y.png", "https://a.example/img/y.png"},
		{"https://a.example/img%2F..%2Fimg-private/y.png", "!encoded slash"},
		{"https://a.example/img/..%5Cimg-private", "!encoded slash"},
		{`https://a.example/img/..\img-private`, "!"},
		{"https://user:pw@a.example/img/y.png", "!user info"},
		{"https://user@a.example/img/y.png", "!user info"},
		{"http://b.example:8080/pics/p.png", "http://b.example:8080/pics/p.png"},
		{"http://b.example:08080/pics/p.png", "http://b.example:08080/pics/p.png"},
		{"http://b.example:8080/pics", "!not under"},
		{"http://b.example/pics/p.png", "!not under"},
		{"https://x.imgs.example/p.png", "https://x.imgs.example/p.png"},
		{"https://y.x.imgs.example/p.png", "https://y.x.imgs.example/p.png"},
		{"https://imgs.example/p.png", "!not under"},
		{"https://ximgs.example/p.png", "!not under"},
		{"http://[2001:db8::1]:80/x/p.png", "http://[2001:db8::1]:80/x/p.png"},
		{"http://[2001:DB8:0::1]/x/p.png", "!not under"}, // the address as written, not parsed
		{"ftp://cdn.example.com/a.png", "!scheme ftp"},
		{"file:///etc/passwd", "!scheme file"},
		{"gopher://cdn.example.com/", "!scheme gopher"},
		{"https:cdn.example.com/a.png", "!no //host"},
		{"https:///a.png", "!no host"},
		{"//cdn.example.com/a.png", "!not absolute"},
		{"https://cdn.example.com:99999/a.png", "!"},
		{"https://cdn.example.com/a\x7f.png", "!does not parse"},
	} {
		u, err := allow.check(c.url)
		if want, bad := strings.CutPrefix(c.want, "!"); bad {
			if err == nil {
				t.Errorf("%s: allowed as %s, want an error with %q", c.url, u, want)
			} else if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want an error with %q", c.url, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
		} else if u.String() != c.want {
			t.Errorf("%s: requests %s, want %s", c.url, u, c.want)
		}
	}
	if _, err := allow.check("https://a.example/imgx"); !errors.Is(err, errNotAllowed) {
		t.Errorf("not on the list: %v, want errNotAllowed", err)
	}
	var empty allowList
	if _, err := empty.check("https://cdn.example.com/a.png"); !errors.Is(err, errNotAllowed) {
		t.Errorf("empty list: %v", err)
	}
}

// TestAllowListEntries refuses entries that are not a scheme, a host and a path prefix, with
// the entry and the problem in the message (Config.Validate).
func TestAllowListEntries(t *testing.T) {
	for _, c := range []struct{ entry, want string }{
		{"ftp://a.example/", "scheme ftp"},
		{"a.example/img", "not absolute"},
		{"https://u:p@a.example/", "user info"},
		{"https://a.example/?x=1", "query or a fragment"},
		{"https://a.example/#top", "query or a fragment"},
		{"https://*/", "* in its host"}, {"https://*..example/", "bad wildcard"},
		{"https://*.*.example/", "bad wildcard"},
		{"https://a.*.example/", "* in its host"},
		{"https://*.10.0.0.1/", "wildcard on an IP"},
		{"https://a.example:0/", "port 0"},
		{"https:///img", "no host"},
		{"https://a.example/%2Fx", "encoded slash"},
		{"https://a.example/\x00", "not a URL"},
	} {
		cfg := DefaultConfig()
		cfg.AllowURLs = []string{"https://fine.example/", c.entry}
		err := cfg.Validate()
		var fe *FieldError
		if err == nil || !errors.As(err, &fe) || fe.Field != "AllowURLs" {
			t.Errorf("%q: %v, want a FieldError of AllowURLs", c.entry, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, c.want) || !strings.Contains(msg, "AllowURLs ") {
			t.Errorf("%q: %q, want %q in it", c.entry, msg, c.want)
		}
	}
	cfg := DefaultConfig()
	cfg.AllowURLs = []string{"https://a.example/img", "HTTP://B.EXAMPLE:80", "https://*.c.example/x/"}
	if err := cfg.Validate(); err != nil {
		t.Errorf("good entries: %v", err)
	}
	cfg.FetchTimeout = 0
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "FetchTimeout 0s must be positive") {
		t.Errorf("FetchTimeout 0: %v", err)
	}
}

// TestNonPublic classifies the addresses a fetch refuses without Config.FetchPrivate.
func TestNonPublic(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1":              "loopback",
		"127.255.0.9":            "loopback",
		"::1":                    "loopback",
		"::ffff:127.0.0.1":       "loopback",
		"10.1.2.3":               "private",
		"172.16.0.1":             "private",
		"192.168.1.1":            "private",
		"fd00:ec2::254":          "private",
		"169.254.169.254":        "link-local",
		"fe80::1":                "link-local",
		"0.0.0.0":                "unspecified",
		"::":                     "unspecified",
		"0.1.2.3":                `"this network"`,
		"100.100.100.200":        "shared (carrier-grade NAT)",
		"224.0.0.1":              "multicast",
		"ff02::1":                "multicast",
		"255.255.255.255":        "reserved",
		"198.18.0.1":             "benchmarking",
		"64:ff9b::a9fe:a9fe":     "link-local", // NAT64 of 169.254.169.254
		"64:ff9b::808:808":       "",
		"8.8.8.8":                "",
		"93.184.215.14":          "",
		"2606:4700:4700::1111":   "",
		"::ffff:93.184.215.14":   "",
		"2001:db8::1":            "documentation",
		"172.32.0.1":             "",
		"100.128.0.1":            "",
		"192.0.0.8":              "IETF protocol assignment",
		"203.0.113.7":            "documentation",
		"2001:4860:4860::8888":   "",
		"::ffff:169.254.169.254": "link-local",
	} {
		if got := nonPublic(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
	if err := refuseNonPublic("tcp4", "127.0.0.1:80", nil); err == nil || !strings.Contains(err.Error(), "127.0.0.1, a loopback address") {
		t.Errorf("127.0.0.1:80: %v", err)
	}
	if err := refuseNonPublic("tcp6", "[2606:4700:4700::1111]:443", nil); err != nil {
		t.Errorf("public address: %v", err)
	}
}

// TestShownURL hides a URL's query (a signed URL's token) in messages.
func TestShownURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.example/x.png?sig=secret#f": "https://a.example/x.png?…",
		"https://a.example/x.png":              "https://a.example/x.png",
	} {
		u, _ := url.Parse(in)
		if got := shownURL(u); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

// FuzzAllowList checks the matcher on arbitrary URLs: no panics, and a URL it allows is an
// http(s) URL without user info whose request form is allowed again unchanged.
func FuzzAllowList(f *testing.F) {
	allow, err := parseAllowList([]string{"https://a.example/img", "http://*.b.example:8080/p/", "http://127.0.0.1:9/"})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"https://a.example/img/x.png", "https://a.example/img/../x", "http://c.b.example:8080/p/%2e%2e/q", "http://u@127.0.0.1:9/", "https://a.example/img?x#y", "HTTP://127.0.0.1:09//a/./b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := allow.check(s)
		if err != nil {
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Host == "" {
			t.Fatalf("%q allowed as %s", s, u)
		}
		again, err := allow.check(u.String())
		if err != nil {
			t.Fatalf("%q allowed as %s, which is refused: %v", s, u, err)
		}
		if again.String() != u.String() {
			t.Fatalf("%q allowed as %s, then as %s", s, u, again)
		}
	})
}
