package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
