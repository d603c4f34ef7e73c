package hub

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// FuzzParseSpec feeds any -model value to ParseSpec. It must not panic; an error names the
// spec and comes with no other result, a local folder with no repo or revision, and a hub id
// is Org/Name and a revision that are safe to use as cache paths.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"Qwen/Qwen3-VL-2B-Instruct", "Qwen/Qwen3-VL-2B-Instruct@v1.0", "Qwen/Qwen3-VL-2B-Instruct@refs/pr/12",
		"Qwen/Qwen3-VL-2B-Instruct@" + strings.Repeat("0123456789", 4), "some_user/my.model-v2",
		"/no/such/folder", "./ckpt", "../ckpt", "~/models/qwen", "models/qwen/2b", `C:\models\qwen`, "",
		"Qwen3-VL", "Qwen/", "Qwen/Na me", "Qwen/-model", "Qwen--x/model", "Qwen/model.git", "Qwen/model@",
		"Qwen/model@../../etc", "Qwen/model@a//b", "Qwen/model@a b", "a/b@c@d", "a/b@./x", "a/b@x/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		repo, rev, local, err := ParseSpec(spec)
		if err != nil {
			if repo != "" || rev != "" || local {
				t.Fatalf("ParseSpec(%q) = %q, %q, %v with error %v", spec, repo, rev, local, err)
			}
			if spec != "" && !strings.Contains(err.Error(), strconv.Quote(spec)) {
				t.Fatalf("ParseSpec(%q): error %q does not name the spec", spec, err)
			}
			return
		}
		if local {
			if repo != "" || rev != "" {
				t.Fatalf("ParseSpec(%q): local folder with repo %q, revision %q", spec, repo, rev)
			}
			return
		}
		switch {
		case spec == repo:
			if rev != DefaultRevision {
				t.Fatalf("ParseSpec(%q): revision %q, want %q", spec, rev, DefaultRevision)
			}
		case spec != repo+"@"+rev:
			t.Fatalf("ParseSpec(%q) = %q, %q: not the spec's parts", spec, repo, rev)
		}
		org, name, ok := strings.Cut(repo, "/")
		if !ok || org == "" || name == "" || strings.Contains(name, "/") || strings.Contains(repo, "@") {
			t.Fatalf("ParseSpec(%q): repo %q is not Org/Name", spec, repo)
		}
		// The cache folder is one path component, and maps back to the repo.
		folder := hfRepoFolder(repo)
		if strings.ContainsAny(folder, `/\`) || !filepath.IsLocal(folder) ||
			strings.ReplaceAll(strings.TrimPrefix(folder, "models--"), "--", "/") != repo {
			t.Fatalf("ParseSpec(%q): repo %q has the cache folder %q", spec, repo, folder)
		}
		// The revision can be stored under refs/ without escaping it.
		if rev == "" || len(rev) > 255 || !filepath.IsLocal(rev) || filepath.Clean(rev) != rev ||
			strings.IndexFunc(rev, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\\' || r == ':' }) >= 0 {
			t.Fatalf("ParseSpec(%q): unsafe revision %q", spec, rev)
		}
	})
}
