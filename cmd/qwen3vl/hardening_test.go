package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

const inputsDir = "../../testdata/imageproc/inputs"

// TestEncodeChecksBeforeLoading: a bad output path, bad flags or a bad input are refused
// before the model is resolved: the model here is a folder that does not exist, so an error
// about it would mean the check came too late.
func TestEncodeChecksBeforeLoading(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(inputsDir, "grad_400x300.png")
	npyDir := filepath.Join(dir, "existing")
	os.Mkdir(npyDir, 0o755)
	copyOf := filepath.Join(dir, "copy.png")
	b, _ := os.ReadFile(img)
	os.WriteFile(copyOf, b, 0o644)
	noModel := filepath.Join(dir, "no-such-model")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing output folder", []string{"-o", filepath.Join(dir, "nope", "out.safetensors"), img}, 2, "does not exist"},
		{"existing npy folder", []string{"-format", "npy", "-o", npyDir, img}, 2, "already exists"},
		{"folder for a file", []string{"-o", npyDir, img}, 2, "is a folder"},
		{"output is the input", []string{"-o", copyOf, copyOf}, 2, "refusing to overwrite"},
		{"min above max", []string{"-min-pixels", "5000", "-max-pixels", "4000", "-o", filepath.Join(dir, "o.st"), img}, 2, "-min-pixels 5000 is larger than -max-pixels 4000"},
		{"bad video fps", []string{"-video-fps", "-1", "-o", filepath.Join(dir, "o.st"), img}, 2, "-video-fps"},
		{"missing input", []string{"-o", filepath.Join(dir, "o.st"), filepath.Join(dir, "gone.png")}, 1, "gone.png: no such file"},
		{"missing video", []string{"-o", filepath.Join(dir, "o.st"), "-video", filepath.Join(dir, "gone.mp4")}, 1, "gone.mp4: no such file"},
		{"device input", []string{"-o", filepath.Join(dir, "o.st"), "/dev/zero"}, 1, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := runCmd(t, append([]string{"encode", "-q", "-model", noModel}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "no-such-model") {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q, before the model", code, stderr, tc.code, tc.want)
			}
		})
	}
	if b2, _ := os.ReadFile(copyOf); !bytes.Equal(b, b2) {
		t.Error("encode -o X X changed its input")
	}
}

// TestEncodeKeepGoing: one undecodable file among good ones fails the run by name; with
// -keep-going it is skipped, the rest encoded and the exit status 1.
func TestEncodeKeepGoing(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "broken.png")
	os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	// A header that reads, pixel data cut short: found only when decoding, after loading.
	whole, _ := os.ReadFile(filepath.Join(inputsDir, "grad_400x300.png"))
	cut := filepath.Join(dir, "cut.png")
	os.WriteFile(cut, whole[:len(whole)/2], 0o644)
	good := []string{filepath.Join(inputsDir, "gray_80x60.png"), filepath.Join(inputsDir, "edges_97x61.png")}
	out := filepath.Join(dir, "out.safetensors")
	args := []string{"encode", "-q", "-model", "random:tiny", "-o", out, good[0], bad, cut, good[1]}
	code, stderr := runCmd(t, args...)
	if code != 1 || !strings.Contains(stderr, "broken.png") {
		t.Fatalf("strict: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("strict run wrote an output")
	}
	code, stderr = runCmd(t, append([]string{"encode", "-keep-going"}, args[1:]...)...)
	if code != 1 || !strings.Contains(stderr, "skipping") || !strings.Contains(stderr, "broken.png") || !strings.Contains(stderr, "cut.png") || !strings.Contains(stderr, "2 of 4 inputs skipped") {
		t.Fatalf("keep-going: exit %d, %q", code, stderr)
	}
	f, err := safetensors.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, _ := f.Int64("grid_thw")
	if len(g) != 6 {
		t.Errorf("keep-going wrote %d grid values, want 2 items", len(g))
	}
	if items := f.Header().Metadata["items"]; !strings.Contains(items, "gray_80x60.png") || strings.Contains(items, "broken") {
		t.Errorf("metadata items = %s", items)
	}
}

// TestPreprocessModelChecked: a mistyped -model is an error, not the defaults.
func TestPreprocessModelChecked(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("QWEN3VL_CACHE", t.TempDir())
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	out := filepath.Join(t.TempDir(), "p.safetensors")
	img := filepath.Join(inputsDir, "gray_80x60.png")
	for _, model := range []string{"./no-such-checkpoint", "Qwen/Qwen3-VL-2B-Instrct"} {
		code, stderr := runCmd(t, "preprocess", "-model", model, "-o", out, img)
		if code == 0 || !strings.Contains(stderr, strings.TrimPrefix(model, "./")) {
			t.Errorf("-model %s: exit %d, %q", model, code, stderr)
		}
	}
	if code, stderr := runCmd(t, "preprocess", "-model", "../../testdata/golden/tiny-checkpoint", "-o", out, img); code != 0 {
		t.Errorf("a real folder: exit %d, %q", code, stderr)
	}
}

// TestFolderInputsFollowSymlinks: a folder's symbolic links to images are inputs; a dangling
// one is an error naming it.
func TestFolderInputsFollowSymlinks(t *testing.T) {
	dir := t.TempDir()
	abs, _ := filepath.Abs(filepath.Join(inputsDir, "gray_80x60.png"))
	os.Symlink(abs, filepath.Join(dir, "a.png"))
	files, err := expandInputs([]string{dir}, "")
	if err != nil || len(files) != 1 {
		t.Fatalf("expandInputs = %v, %v; want the link", files, err)
	}
	os.Symlink(filepath.Join(dir, "missing.png"), filepath.Join(dir, "b.png"))
	if _, err := expandInputs([]string{dir}, ""); err == nil || !strings.Contains(err.Error(), "b.png") {
		t.Errorf("dangling link: %v", err)
	}
}

// TestInterrupted: a cancelled context (Ctrl-C) ends a command with "interrupted" and exit 130.
func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "o.safetensors")
	code := run(ctx, []string{"encode", "-q", "-model", "random:tiny", "-o", out, filepath.Join(inputsDir, "gray_80x60.png")}, &stdout, &stderr)
	if code != 130 || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("exit %d, %q", code, stderr.String())
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an interrupted encode wrote its output")
	}
}

func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"version", "-json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var v versionInfo
	if err := json.Unmarshal(stdout.Bytes(), &v); err != nil || v.Go == "" || v.Kernels == "" || v.Platform == "" {
		t.Errorf("version -json = %s (%v)", stdout.String(), err)
	}
}

// TestDefaultModelUnavailable: without -model, a default that cannot be had says it was the
// default and what to give instead; a named hub id says nothing of the default.
func TestDefaultModelUnavailable(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("QWEN3VL_CACHE", t.TempDir())
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	out := filepath.Join(t.TempDir(), "o.safetensors")
	img := filepath.Join(inputsDir, "gray_80x60.png")
	code, stderr := runCmd(t, "encode", "-o", out, img)
	if code != 1 || !strings.Contains(stderr, "no -model was given") || !strings.Contains(stderr, "random:PRESET") {
		t.Errorf("no -model: exit %d, %q", code, stderr)
	}
	code, stderr = runCmd(t, "encode", "-model", "Qwen/Qwen3-VL-2B-Instruct", "-o", out, img)
	if code != 1 || strings.Contains(stderr, "no -model was given") {
		t.Errorf("-model given: exit %d, %q", code, stderr)
	}
}
