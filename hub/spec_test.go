package hub

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSpec(t *testing.T) {
	dir := t.TempDir()
	// A folder named like a hub id, relative to the working directory, wins over the id.
	t.Chdir(dir)
	if err := os.MkdirAll(filepath.Join("Local", "Model"), 0o755); err != nil {
		t.Fatal(err)
	}
	commit := strings.Repeat("0123456789", 4)
	for _, tc := range []struct {
		spec      string
		repo, rev string
		local     bool
		err       string // substring of the error; "" for none
	}{
		{spec: "Qwen/Qwen3-VL-2B-Instruct", repo: "Qwen/Qwen3-VL-2B-Instruct", rev: "main"},
		{spec: "Qwen/Qwen3-VL-2B-Instruct@v1.0", repo: "Qwen/Qwen3-VL-2B-Instruct", rev: "v1.0"},
		{spec: "Qwen/Qwen3-VL-2B-Instruct@" + commit, repo: "Qwen/Qwen3-VL-2B-Instruct", rev: commit},
		{spec: "Qwen/Qwen3-VL-2B-Instruct@refs/pr/12", repo: "Qwen/Qwen3-VL-2B-Instruct", rev: "refs/pr/12"},
		{spec: "some_user/my.model-v2", repo: "some_user/my.model-v2", rev: "main"},
		{spec: "Local/Model", local: true},
		{spec: dir, local: true},
		{spec: "/no/such/folder", local: true},
		{spec: "./ckpt", local: true},
		{spec: "../ckpt", local: true},
		{spec: "~/models/qwen", local: true},
		{spec: "models/qwen/2b", local: true},
		{spec: `C:\models\qwen`, local: true},
		{spec: "", err: "empty model"},
		{spec: "Qwen3-VL", err: "Org/Name"},
		{spec: "Qwen/", err: "neither an existing folder nor a hub model id"},
		{spec: "Qwen/Na me", err: "letters, digits"},
		{spec: "Qwen/-model", err: "cannot start or end"},
		{spec: "Qwen--x/model", err: `"--"`},
		{spec: "Qwen/model.git", err: ".git"},
		{spec: "Qwen/model@", err: "empty revision"},
		{spec: "Qwen/model@../../etc", err: "not a branch"},
		{spec: "Qwen/model@a//b", err: "not a branch"},
		{spec: "Qwen/model@a b", err: "contains"},
	} {
		repo, rev, local, err := ParseSpec(tc.spec)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSpec(%q) error %v, want one containing %q", tc.spec, err, tc.err)
			}
		case err != nil:
			t.Errorf("ParseSpec(%q): %v", tc.spec, err)
		case repo != tc.repo || rev != tc.rev || local != tc.local:
			t.Errorf("ParseSpec(%q) = %q, %q, %v; want %q, %q, %v", tc.spec, repo, rev, local, tc.repo, tc.rev, tc.local)
		}
	}
}

func TestOptionsFromEnv(t *testing.T) {
	home := t.TempDir()
	clear := func() {
		for _, v := range []string{"HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE",
			"HF_HOME", "XDG_CACHE_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "QWEN3VL_CACHE"} {
			t.Setenv(v, "")
		}
		t.Setenv("HOME", home)
	}
	for _, tc := range []struct {
		name  string
		env   map[string]string
		check func(o Options) bool
	}{
		{"defaults", nil, func(o Options) bool {
			return o.Endpoint == DefaultEndpoint && o.Token == "" && !o.Offline &&
				o.HFCacheDir == filepath.Join(home, ".cache", "huggingface", "hub")
		}},
		{"endpoint", map[string]string{"HF_ENDPOINT": "https://hf-mirror.example/"}, func(o Options) bool {
			return o.Endpoint == "https://hf-mirror.example"
		}},
		{"token", map[string]string{"HF_TOKEN": " hf_abc\n"}, func(o Options) bool { return o.Token == "hf_abc" }},
		{"legacy token", map[string]string{"HUGGING_FACE_HUB_TOKEN": "hf_old"}, func(o Options) bool { return o.Token == "hf_old" }},
		{"offline 1", map[string]string{"HF_HUB_OFFLINE": "1"}, func(o Options) bool { return o.Offline }},
		{"offline yes", map[string]string{"HF_HUB_OFFLINE": "yes"}, func(o Options) bool { return o.Offline }},
		{"offline 0", map[string]string{"HF_HUB_OFFLINE": "0"}, func(o Options) bool { return !o.Offline }},
		{"transformers offline", map[string]string{"TRANSFORMERS_OFFLINE": "TRUE"}, func(o Options) bool { return o.Offline }},
		{"our cache", map[string]string{"QWEN3VL_CACHE": "/data/q"}, func(o Options) bool { return o.CacheDir == "/data/q" }},
		{"our cache ~", map[string]string{"QWEN3VL_CACHE": "~/q"}, func(o Options) bool { return o.CacheDir == filepath.Join(home, "q") }},
		{"HF_HUB_CACHE first", map[string]string{"HF_HUB_CACHE": "/a", "HUGGINGFACE_HUB_CACHE": "/b", "HF_HOME": "/c"}, func(o Options) bool {
			return o.HFCacheDir == "/a"
		}},
		{"legacy hub cache", map[string]string{"HUGGINGFACE_HUB_CACHE": "/b", "HF_HOME": "/c"}, func(o Options) bool { return o.HFCacheDir == "/b" }},
		{"HF_HOME", map[string]string{"HF_HOME": "/c", "XDG_CACHE_HOME": "/x"}, func(o Options) bool {
			return o.HFCacheDir == filepath.Join("/c", "hub")
		}},
		{"XDG", map[string]string{"XDG_CACHE_HOME": "/x"}, func(o Options) bool {
			return o.HFCacheDir == filepath.Join("/x", "huggingface", "hub")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clear()
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			o := OptionsFromEnv()
			if !tc.check(o) {
				t.Errorf("%+v", o)
			}
		})
	}
}

func TestProgressBar(t *testing.T) {
	if b := newProgressBar(nil, "x", 10, 0); b != nil {
		t.Fatal("a bar without a writer should be nil")
	}
	var nilBar *progressBar
	nilBar.Add(5) // no-ops
	nilBar.Finish()

	var out bytes.Buffer
	now := time.Unix(1000, 0)
	b := newProgressBar(&out, "Qwen/X vision weights", 4<<20, 1<<20)
	b.now = func() time.Time { return now }
	b.start = now
	now = now.Add(2 * time.Second)
	b.Add(1 << 20) // 1 MiB in 2 s, 2 MiB left
	want := "\rQwen/X vision weights  2.0 MiB / 4.0 MiB   50%  512.0 KiB/s  ETA 4s"
	if got := out.String(); got != want {
		t.Errorf("first draw %q\nwant %q", got, want)
	}
	out.Reset()
	now = now.Add(100 * time.Millisecond)
	b.Add(10)
	if out.Len() != 0 {
		t.Errorf("redrawn after 100ms: %q", out.String())
	}
	now = now.Add(2 * time.Second)
	b.Add(2<<20 - 10)
	b.Finish()
	b.Finish()
	if got := out.String(); !strings.Contains(got, "4.0 MiB / 4.0 MiB  100%") || !strings.HasSuffix(got, "\n") || strings.Count(got, "\n") != 1 {
		t.Errorf("final draw %q", got)
	}

	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {812 << 20, "812.0 MiB"}, {5 << 30, "5.0 GiB"}} {
		if got := formatBytes(c.n); got != c.want {
			t.Errorf("formatBytes(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{21 * time.Second, "21s"}, {185 * time.Second, "3m05s"}, {3720 * time.Second, "1h02m"}} {
		if got := formatDuration(c.d); got != c.want {
			t.Errorf("formatDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
