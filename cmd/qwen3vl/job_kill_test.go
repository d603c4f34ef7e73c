package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/job"
)

// The kill test runs this test binary as the command (TestMain below), SIGKILLs it at random
// moments and resumes. QWEN3VL_KILL_LONG=1 makes its long form: 1000 images, more kills.

func TestMain(m *testing.M) {
	if os.Getenv("QWEN3VL_TEST_MAIN") == "1" {
		main() // the command itself, its signal handling included
		return
	}
	os.Exit(m.Run())
}

// jobImages writes n small images (PNG and JPEG, in three subfolders, every ninth a copy of an
// earlier one) under a new folder.
func jobImages(t *testing.T, n int, seed uint64) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(seed, 2))
	var blobs [][]byte
	for i := range n {
		var b []byte
		ext := ".png"
		if i%9 == 8 {
			k := rng.IntN(len(blobs))
			b = blobs[k]
			if b[0] == 0xff {
				ext = ".jpg"
			}
		} else {
			w, h := 16+rng.IntN(64), 16+rng.IntN(64)
			img := image.NewRGBA(image.Rect(0, 0, w, h))
			for j := range img.Pix {
				img.Pix[j] = uint8(rng.UintN(256))
				if j%4 == 3 {
					img.Pix[j] = 255
				}
			}
			var buf bytes.Buffer
			var err error
			if i%2 == 0 {
				err = png.Encode(&buf, img)
			} else {
				ext = ".jpg"
				err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
			}
			if err != nil {
				t.Fatal(err)
			}
			b = buf.Bytes()
			blobs = append(blobs, b)
		}
		sub := filepath.Join(dir, fmt.Sprintf("s%d", i%3))
		os.MkdirAll(sub, 0o755)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%05d%s", i, ext)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var jobModel = []string{"-model", "random:tiny", "-min-pixels", "1024", "-max-pixels", "8192"}

// runKilled runs encode into dir in a child process and SIGKILLs it after delay; it reports
// whether the child was killed (false: it finished first).
func runKilled(t *testing.T, args []string, delay time.Duration) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "QWEN3VL_TEST_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("encode %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return false
	case <-time.After(delay):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true
	}
}

// leftovers counts a killed run's temporary files and shards without a segment.
func leftovers(dir string) (temps, orphans int) {
	ents, _ := os.ReadDir(dir)
	names := map[string]bool{}
	for _, e := range ents {
		names[e.Name()] = true
	}
	for n := range names {
		if strings.Contains(n, ".tmp-") {
			temps++
		}
		if s, ok := strings.CutPrefix(n, "shard-"); ok && !names["index-"+strings.TrimSuffix(s, ".safetensors")+".jsonl"] {
			orphans++
		}
	}
	return temps, orphans
}

// TestJobSurvivesSIGKILL: a job killed at random moments and resumed ends with features
// identical, byte for byte once exported, to a plain encode of the same folder; nothing
// missing or twice (Merge checks every ordinal). The same split over n = 1, 3, 7 workers,
// each killed and resumed, merged.
func TestJobSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("execs the command many times")
	}
	n, kills := 300, 4
	if os.Getenv("QWEN3VL_KILL_LONG") == "1" {
		n, kills = 1000, 12
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d images", seed, n)
	rng := rand.New(rand.NewPCG(seed, 3))
	in := jobImages(t, n, seed)
	plain := filepath.Join(t.TempDir(), "plain.safetensors")
	if code, stderr := runCmd(t, append(append([]string{"encode"}, jobModel...), "-q", "-o", plain, in)...); code != 0 {
		t.Fatalf("plain encode: %d %s", code, stderr)
	}
	want, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, dirs ...string) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "export.safetensors")
		if code, stderr := runCmd(t, append(append([]string{"index", "export", "-q"}, dirs...), "-o", out)...); code != 0 {
			t.Fatalf("%s: export: %d %s", name, code, stderr)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: the export (%d bytes) differs from the plain encode (%d bytes)", name, len(got), len(want))
		}
	}
	var killed, temps, orphans int
	work := func(dir string, extra []string, kills int) {
		args := append(append(append([]string{"encode"}, jobModel...), "-q", "-shard-bytes", "12K", "-batch-patches", "96", "-o", dir+"/"), append(extra, in)...)
		for range kills {
			if runKilled(t, args, time.Duration(30+rng.IntN(400))*time.Millisecond) {
				killed++
				tp, op := leftovers(dir)
				temps, orphans = temps+tp, orphans+op
			}
		}
		if code, stderr := runCmd(t, args...); code != 0 {
			t.Fatalf("resume %s: %d %s", dir, code, stderr)
		}
	}
	dir := filepath.Join(t.TempDir(), "job")
	work(dir, nil, kills)
	check("one worker", dir)

	// SIGINT: the run stops (exit 130) after writing what it encoded; nothing is left half done.
	// Forty inputs at a larger pixel budget, so that it is still running when interrupted.
	var lines []string
	if err := (job.Source{Args: []string{in}}).Walk(context.Background(), func(x job.Input) error {
		if len(lines) < 40 {
			lines = append(lines, x.Path)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(t.TempDir(), "list.txt")
	os.WriteFile(list, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	big := []string{"encode", "-q", "-model", "random:tiny", "-min-pixels", "60000", "-max-pixels", "70000", "-list", list}
	plainBig := filepath.Join(t.TempDir(), "plain.safetensors")
	if code, stderr := runCmd(t, append(big, "-o", plainBig)...); code != 0 {
		t.Fatalf("plain encode: %d %s", code, stderr)
	}
	dir = filepath.Join(t.TempDir(), "job")
	cmd := exec.Command(os.Args[0], append(big, "-shard-bytes", "64K", "-o", dir+"/")...)
	cmd.Env = append(os.Environ(), "QWEN3VL_TEST_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupted once it has written its first segment: mid-run.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if segs, _ := filepath.Glob(filepath.Join(dir, "index-*.jsonl")); len(segs) > 0 {
			break
		}
	}
	cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != 130 && err != nil {
		t.Errorf("SIGINT: exit %d (%v), want 130", code, err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "index-*.jsonl"))
	t.Logf("SIGINT: exit %d, %d segments written", code, len(segs))
	if tp, op := leftovers(dir); tp+op > 0 {
		t.Errorf("SIGINT left %d temporary files and %d orphaned shards", tp, op)
	}
	if code, stderr := runCmd(t, append(big, "-shard-bytes", "64K", "-o", dir+"/")...); code != 0 {
		t.Fatalf("resume after SIGINT: %d %s", code, stderr)
	}
	out := filepath.Join(t.TempDir(), "export.safetensors")
	if code, stderr := runCmd(t, "index", "export", "-q", dir, "-o", out); code != 0 {
		t.Fatalf("export: %d %s", code, stderr)
	}
	if a, b := mustRead(t, plainBig), mustRead(t, out); !bytes.Equal(a, b) {
		t.Fatal("after SIGINT: the export differs from the plain encode")
	}

	for _, w := range []int{1, 3, 7} {
		root := t.TempDir()
		for i := range w {
			work(filepath.Join(root, fmt.Sprint(i)), []string{"-shard", fmt.Sprintf("%d/%d", i, w)}, max(1, kills/w))
		}
		check(fmt.Sprintf("%d workers", w), root)
		ix, err := job.Merge(mustWorkerDirs(t, root))
		if err != nil || ix.Total != int64(n) || ix.Failed != 0 {
			t.Fatalf("%d workers: merge: %v", w, err)
		}
	}
	t.Logf("%d runs killed; %d temporary files and %d orphaned shards found after kills (cleaned on resume)", killed, temps, orphans)
	if killed == 0 {
		t.Error("no run was killed before it finished: the test proved nothing")
	}
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustWorkerDirs(t *testing.T, root string) []string {
	dirs, err := job.WorkerDirs([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}
