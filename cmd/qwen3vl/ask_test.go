package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// ask on random:tiny@7 is the tiny full model of testdata/text/tiny (the same synthetic weights
// as the reference's), random:tiny-untied@7 and random:tiny-moe@7 those of testdata/text/
// tiny-untied and tiny-moe (the mixture-of-experts decoder): through the
// command line, its prompt ids must be the processor's input_ids and its 64 greedy tokens those
// of HF generate (tools/reference/text_goldens.py).
func TestAskMatchesReference(t *testing.T) {
	for _, family := range []string{"tiny", "tiny-untied", "tiny-moe"} {
		t.Run(family, func(t *testing.T) { askMatchesReference(t, family) })
	}
}

func askMatchesReference(t *testing.T, family string) {
	b, err := os.ReadFile("../../testdata/text/" + family + "/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Name     string   `json:"name"`
			Images   []string `json:"images"`
			InputIDs []int32  `json:"input_ids"`
			IDs      []int32  `json:"generated_ids"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	// The single-turn cases, as ask builds them (items first, then the question; or placed by
	// the question's marks).
	cases := map[string][][]string{
		"text": {{"The quick brown fox jumps over the lazy dog. What does this sentence show?"}},
		"image": {
			{"-image", "../../testdata/imageproc/inputs/grad_400x300.png", "Describe this image."},
			{"-image", "../../testdata/imageproc/inputs/grad_400x300.png", "<image>Describe this image."},
		},
		"video": {{"-video", "../../testdata/video/inputs/seven_frames", "-frames-fps", "2", "What happens in this clip?"}},
	}
	checked := 0
	for _, g := range golden.Cases {
		variants, ok := cases[g.Name]
		if !ok {
			continue
		}
		for _, args := range variants {
			t.Run(g.Name, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				all := append([]string{"ask", "-model", "random:" + family + "@7", "-tokenizer", "../../testdata/tokenizer/qwen3vl", "-json", "-max-tokens", "64"}, args...)
				if code := run(context.Background(), all, &stdout, &stderr); code != 0 {
					t.Fatalf("exit %d: %s", code, stderr.String())
				}
				var out askJSON
				if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
					t.Fatalf("-json output: %v\n%s", err, stdout.String())
				}
				if !slices.Equal(out.PromptIDs, g.InputIDs) {
					t.Errorf("prompt ids %v\nreference input_ids %v", out.PromptIDs, g.InputIDs)
				}
				if !slices.Equal(out.IDs, g.IDs) {
					t.Errorf("generated %v\nreference %v", out.IDs, g.IDs)
				}
				if !strings.Contains(stderr.String(), "64 generated") {
					t.Errorf("summary: %s", stderr.String())
				}
			})
		}
		checked++
	}
	if checked != len(cases) {
		t.Fatalf("%d of %d cases found in cases.json", checked, len(cases))
	}
}

func TestAskErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no question", []string{"-model", "random:tiny"}, 2, "want exactly one question"},
		{"no model", []string{"hi"}, 2, "-model is required"},
		{"missing image", []string{"-model", "random:tiny", "-image", "nope.png", "hi"}, 1, "nope.png"},
		{"more marks than images", []string{"-model", "random:tiny", "-image", "../../testdata/imageproc/inputs/grad_400x300.png", "<image> and <image>?"}, 1, "2 <image> mark(s) but 1 image(s)"},
		{"a video mark without video", []string{"-model", "random:tiny", "<video> what?"}, 1, "1 <video> mark(s) but 0 video(s)"},
		{"longer than the context", []string{"-model", "random:tiny", "-tokenizer", "../../testdata/tokenizer/qwen3vl", "-max-tokens", "300000", "hi"}, 1, "exceed the model's context"},
		{"bad temperature", []string{"-model", "random:tiny", "-tokenizer", "../../testdata/tokenizer/qwen3vl", "-temperature", "-1", "hi"}, 2, "temperature"},
		{"no tokenizer", []string{"-model", "random:tiny", "-tokenizer", os.TempDir(), "hi"}, 1, "has no tokenizer.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"ask"}, tc.args...), &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr.String(), tc.code, tc.want)
			}
		})
	}
}
