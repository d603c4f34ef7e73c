package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testImage = "../../testdata/imageproc/inputs/j420_320x240.jpg"

// TestExplainPNG: explain -png writes a PNG (the same bytes twice), with -size too, and
// refuses a folder, a missing folder and a file that is not an image.
func TestExplainPNG(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "e.png")
	var first []byte
	for i := range 2 {
		if code, stderr := runCmd(t, "explain", "-model", "random:tiny", "-png", out, testImage); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		m, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("not a PNG: %v", err)
		}
		if m.Bounds().Dx() < 640 || m.Bounds().Dy() < 512 { // 320×256 at ×2, and the panel
			t.Errorf("picture %v too small", m.Bounds())
		}
		if i == 0 {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Error("two runs wrote different bytes")
		}
	}
	if code, stderr := runCmd(t, "explain", "-model", "qwen3-vl-2b", "-size", "400x300", "-png", out); code != 0 {
		t.Errorf("-size: exit %d: %s", code, stderr)
	}
	notImage := filepath.Join(dir, "not.png")
	os.WriteFile(notImage, []byte("hello, not an image"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-png", dir, testImage}, 2, "is a folder"},
		{[]string{"-png", filepath.Join(dir, "no", "x.png"), testImage}, 2, "does not exist"},
		{[]string{"-png", out, notImage}, 1, "not.png"},
		{[]string{"-png", testImage, testImage}, 2, "refusing to overwrite"},
	} {
		code, stderr := runCmd(t, append([]string{"explain", "-model", "random:tiny"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// TestEncodePNG: encode -png DIR alone writes one deterministic feature picture per image,
// named by index and file; with -o it writes the features as well; a video is refused before
// any work.
func TestEncodePNG(t *testing.T) {
	dir := t.TempDir()
	pics := filepath.Join(dir, "pics")
	args := []string{"encode", "-q", "-model", "random:tiny", "-png", pics, testImage, "../../testdata/imageproc/inputs/noise_160x120.png"}
	if code, stderr := runCmd(t, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	names := []string{"0-j420_320x240.png", "1-noise_160x120.png"}
	var first [][]byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(pics, n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Fatalf("%s: not a PNG: %v", n, err)
		}
		first = append(first, b)
	}
	// A folder named with a trailing slash, as the README names it, is made too.
	slash := filepath.Join(dir, "pics2") + string(filepath.Separator)
	if code, stderr := runCmd(t, "encode", "-q", "-model", "random:tiny", "-png", slash, testImage); code != 0 {
		t.Fatalf("-png %s: exit %d: %s", slash, code, stderr)
	}
	if _, err := os.Stat(filepath.Join(slash, names[0])); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "f.safetensors")
	withO := append([]string{"encode", "-o", out}, args[1:]...)
	if code, stderr := runCmd(t, withO...); code != 0 {
		t.Fatalf("with -o: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("-o with -png: %v", err)
	}
	for i, n := range names {
		b, _ := os.ReadFile(filepath.Join(pics, n))
		if !bytes.Equal(b, first[i]) {
			t.Errorf("%s: a second run wrote different bytes", n)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-png", pics, "-video", "../../testdata/video/frames", testImage}, "images only"},
		{[]string{"-png", testImage, testImage}, "not a folder"},
		{[]string{testImage}, "-o is required"},
		{[]string{"-png", pics, "-pixels", writePixels(t, [][3]int64{{2, 2, 2}})}, "is a video (grid (2, 2, 2))"},
	} {
		code, stderr := runCmd(t, append([]string{"encode", "-model", "random:tiny"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
