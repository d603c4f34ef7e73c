package pipeline

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

// TestDigest checks that the digest is stable, independent of the folder's name, and changes
// with any byte of a tensor the tower reads, with the config, and with a random spec's seed.
func TestDigest(t *testing.T) {
	ctx := context.Background()
	src := "../testdata/golden/tiny-checkpoint"
	digest := func(spec string) string {
		t.Helper()
		s, err := ParseSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Resolve(ctx, s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		// Digest needs only the checkpoint: no weights are loaded here.
		d, err := (&Pipeline{Checkpoint: c}).Digest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(d, "sha256:") || len(d) != len("sha256:")+64 {
			t.Fatalf("digest %q is not sha256:<64 hex>", d)
		}
		return d
	}
	base := digest(src)
	if again := digest(src); again != base {
		t.Errorf("the digest is not stable: %s, then %s", base, again)
	}
	copyDir := func() string {
		dir := filepath.Join(t.TempDir(), "another-name")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(src)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	if d := digest(copyDir()); d != base {
		t.Errorf("a copy in another folder has another digest")
	}

	// One byte of a tensor the tower reads changed (and, apart, one it does not read).
	flip := func(dir string, tower bool) {
		t.Helper()
		set, err := safetensors.OpenDir(dir, func(name string) bool { return vision.IsTensor(name) == tower })
		if err != nil {
			t.Fatal(err)
		}
		defer set.Close()
		name := set.Names()[0]
		f, _ := set.File(name)
		info, _ := set.Info(name)
		path := f.Path()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		at := 8 + int64(binary.LittleEndian.Uint64(b)) + info.Begin
		b[at] ^= 1
		set.Close()
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := copyDir()
	flip(dir, true)
	if d := digest(dir); d == base {
		t.Errorf("a changed weight of the tower leaves the digest unchanged")
	}
	dir = copyDir()
	flip(dir, false)
	if d := digest(dir); d != base {
		t.Errorf("a changed weight of the decoder, which the tower does not read, changes the digest")
	}

	dir = copyDir()
	cfg, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	os.WriteFile(filepath.Join(dir, "config.json"), append(cfg, ' '), 0o644)
	if d := digest(dir); d == base {
		t.Errorf("a changed config.json leaves the digest unchanged")
	}

	if digest("random:tiny@1") == digest("random:tiny@2") {
		t.Errorf("two seeds give one digest")
	}
	if digest("random:tiny@1") != digest("random:tiny@1") {
		t.Errorf("a random spec's digest is not stable")
	}
}
