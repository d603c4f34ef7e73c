//go:build unix

package hub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestResolveIgnoresBadState: a download's state file that is a FIFO (opening it would block
// for ever) or too large is ignored: the next Resolve starts the download over and finishes,
// within seconds, instead of wedging.
func TestResolveIgnoresBadState(t *testing.T) {
	for _, bad := range []string{"fifo", "huge"} {
		t.Run(bad, func(t *testing.T) {
			cp := makeCheckpoint(t, sharded, "qwen3_vl")
			f := newFakeHub(t, cp)
			var headers int64
			for name := range cp.visionBytes {
				headers += cp.headerBytes[name]
			}
			f.set(func(f *fakeHub) { f.budget = headers + (cp.totalVision()-headers)/2 })
			opts := testOptions(t, f)
			if _, err := Resolve(context.Background(), testRepo, opts); !errors.Is(err, ErrNetwork) {
				t.Fatalf("with the connection failing: %v, want ErrNetwork", err)
			}
			state := filepath.Join(opts.CacheDir, "models", "Qwen--Tiny-VL", ".partial-"+f.commit, stateFileName)
			if err := os.Remove(state); err != nil {
				t.Fatal(err)
			}
			switch bad {
			case "fifo":
				if err := syscall.Mkfifo(state, 0o644); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
			case "huge":
				if err := os.WriteFile(state, make([]byte, 1<<20), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f.set(func(f *fakeHub) { f.budget = -1 })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			dir, err := Resolve(ctx, testRepo, opts)
			if err != nil {
				t.Fatal(err)
			}
			assertVisionOnly(t, dir, cp)
			assertSameEncoding(t, dir, cp.dir)
		})
	}
}
