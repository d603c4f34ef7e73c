package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAskAttentionPNG: ask -attn-png on random:tiny draws the same PNG bytes twice, with
// -attn-per-token one more picture per answer token (OUT-000.png …), and leaves -json's line
// as it is without the flag.
func TestAskAttentionPNG(t *testing.T) {
	dir := t.TempDir()
	base := []string{"ask", "-model", "random:tiny", "-tokenizer", "../../testdata/tokenizer/qwen3vl", "-max-tokens", "3", "-json",
		"-image", "../../testdata/imageproc/inputs/grad_400x300.png", "-image", "../../testdata/imageproc/inputs/photo_250x190.png"}
	ask := func(extra ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args := append(append([]string(nil), base...), extra...)
		if code := run(context.Background(), append(args, "Describe these images."), &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		return stdout.String()
	}
	plain := ask()
	var pictures [2][]byte
	for i := range pictures {
		out := filepath.Join(dir, "attn.png")
		if got := ask("-attn-png", out, "-attn-per-token"); got != plain {
			t.Errorf("-json with -attn-png: %s\nwithout: %s", got, plain)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		pictures[i] = b
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Fatalf("the picture does not decode: %v", err)
		}
		for tk := range 3 {
			if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("attn-%03d.png", tk))); err != nil {
				t.Errorf("token %d's picture: %v", tk, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "attn-003.png")); err == nil {
			t.Error("a picture for a fourth token of a three-token answer")
		}
	}
	if !bytes.Equal(pictures[0], pictures[1]) {
		t.Error("two runs drew different attention pictures")
	}
}

func TestAskAttentionErrors(t *testing.T) {
	dir := t.TempDir()
	img := "../../testdata/imageproc/inputs/grad_400x300.png"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no image", []string{"-attn-png", filepath.Join(dir, "a.png"), "hi"}, "needs an -image"},
		{"a folder", []string{"-image", img, "-attn-png", dir, "hi"}, "is a folder"},
		{"no parent", []string{"-image", img, "-attn-png", filepath.Join(dir, "none", "a.png"), "hi"}, "does not exist"},
		{"the input", []string{"-image", img, "-attn-png", img, "hi"}, "refusing to overwrite"},
		{"a video", []string{"-image", img, "-video", "../../testdata/video/inputs/seven_frames", "-attn-png", filepath.Join(dir, "a.png"), "hi"}, "images only"},
		{"per token alone", []string{"-image", img, "-attn-per-token", "hi"}, "needs -attn-png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"ask", "-model", "random:tiny", "-tokenizer", "../../testdata/tokenizer/qwen3vl"}, tc.args...), &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr.String(), tc.want)
			}
		})
	}
}

func TestPerTokenPath(t *testing.T) {
	for _, c := range []struct {
		path string
		t    int
		want string
	}{{"out.png", 0, "out-000.png"}, {"d/x.PNG", 12, "d/x-012.png"}, {"noext", 3, "noext-003.png"}, {"a.b.png", 1000, "a.b-1000.png"}} {
		if got := perTokenPath(c.path, c.t); got != c.want {
			t.Errorf("perTokenPath(%q, %d) = %q, want %q", c.path, c.t, got, c.want)
		}
	}
}
