package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/job"
)

// TestEncodeJobCommand: a job folder is told apart by its trailing slash (or its manifest),
// its flags are refused elsewhere, a rerun with other options is refused naming the
// difference, a corrupt input is recorded and fails the run (exit 1) without stopping it, and
// export of the folder equals the plain encode -keep-going.
func TestEncodeJobCommand(t *testing.T) {
	in := jobImages(t, 12, 5)
	bad := filepath.Join(in, "s0", "bad.png")
	if err := os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\ntruncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out", "job")
	enc := func(extra ...string) []string {
		return append(append(append([]string{"encode"}, jobModel...), "-q"), extra...)
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"shard without a folder", enc("-shard", "0/2", "-o", filepath.Join(dir, "x.safetensors"), in), 2, "-shard is for a batch job"},
		{"bad shard", enc("-shard", "2/2", "-o", dir+"/", in), 2, "want 0 ≤ i < n"},
		{"bad shard bytes", enc("-shard-bytes", "lots", "-o", dir+"/", in), 2, "-shard-bytes"},
		{"pixels into a folder", enc("-pixels", bad, "-o", dir+"/"), 2, "not -pixels"},
		{"first run", enc("-o", dir+"/", in), 1, "1 inputs failed"},
		{"rerun without the slash", enc("-o", dir, in), 1, "1 inputs failed"},
		{"other options", enc("-max-pixels", "4096", "-o", dir+"/", in), 1, `image.MaxPixels: the folder has "8192", this run "4096"`},
		{"other worker", enc("-shard", "1/3", "-o", dir+"/", in), 1, "is worker 0/1's folder, this run is worker 1/3"},
	} {
		code, stderr := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.name, code, stderr, c.code, c.want)
		}
	}
	plain := filepath.Join(t.TempDir(), "plain.safetensors")
	if code, stderr := runCmd(t, enc("-keep-going", "-o", plain, in)...); code != 1 {
		t.Fatalf("plain -keep-going: %d %s", code, stderr)
	}
	out := filepath.Join(t.TempDir(), "export.safetensors")
	code, stderr := runCmd(t, "index", "export", dir, "-o", out)
	if code != 1 || !strings.Contains(stderr, "1 of 13 inputs failed") {
		t.Errorf("export: exit %d, %q", code, stderr)
	}
	a, _ := os.ReadFile(plain)
	b, _ := os.ReadFile(out)
	if len(a) == 0 || string(a) != string(b) {
		t.Errorf("export (%d bytes) differs from the plain encode -keep-going (%d bytes)", len(b), len(a))
	}
	if code, stderr := runCmd(t, "index", "merge", "-o", filepath.Join(t.TempDir(), "m.jsonl"), dir); code != 0 || !strings.Contains(stderr, "13 inputs: 12 encoded, 1 failed") {
		t.Errorf("merge: exit %d, %q", code, stderr)
	}
}

// TestJobProgressAndSizes: the progress line's counts and ETA (a terminal's redrawn line; a
// plain line elsewhere; nothing with -q), and -shard-bytes sizes.
func TestJobProgressAndSizes(t *testing.T) {
	for _, c := range []struct {
		terminal, enabled bool
		want              string
	}{
		{true, true, "\r3/10 items (1 duplicates, 0 failed, 2 already done), "},
		{false, true, "qwen3vl: 3/10 items (1 duplicates, 0 failed, 2 already done), "},
		{false, false, ""},
	} {
		var b strings.Builder
		p := &jobProgress{statusLine: statusLine{w: &b}, terminal: c.terminal, enabled: c.enabled, start: time.Now().Add(-3 * time.Second)}
		p.update(job.Progress{Done: 2, Dups: 1, Resumed: 2, Todo: 10})
		got := b.String()
		if !strings.HasPrefix(got, c.want) || (c.want != "" && !strings.Contains(got, "items/s, ETA ")) || (c.want == "" && got != "") {
			t.Errorf("terminal %v enabled %v: %q, want %q… with an ETA", c.terminal, c.enabled, got, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want int64
	}{{"256M", 256 << 20}, {"12K", 12 << 10}, {"1G", 1 << 30}, {"4096", 4096}, {"2MiB", 2 << 20}, {"0", 0}, {"-1K", 0}, {"big", 0}} {
		got, err := parseBytes(c.in)
		if (err != nil) != (c.want == 0) || got != c.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}
