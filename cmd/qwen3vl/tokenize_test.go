package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The tokenize command is checked against the reference's goldens: the corpus ids
// (testdata/tokenizer/qwen3vl.golden.jsonl) and the chat goldens (testdata/chat), through the
// command line and its -json contract.

const tokDir = "../../testdata/tokenizer/qwen3vl"

type tokenizeJSON struct {
	IDs    []int32  `json:"ids"`
	Pieces []string `json:"pieces"`
	Text   *string  `json:"text"`
}

func runTokenizeJSON(t *testing.T, args ...string) tokenizeJSON {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), append([]string{"tokenize", "-json"}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("tokenize %q: exit %d: %s", args, code, stderr.String())
	}
	var out tokenizeJSON
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("tokenize %q: -json output is not one JSON object: %v\n%s", args, err, stdout.String())
	}
	if strings.Count(strings.TrimSpace(stdout.String()), "\n") != 0 {
		t.Fatalf("tokenize -json printed more than one line:\n%s", stdout.String())
	}
	return out
}

// readJSONL reads a .jsonl golden into one map per line.
func readJSONL(t *testing.T, path string) []map[string]json.RawMessage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []map[string]json.RawMessage
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func field[T any](t *testing.T, m map[string]json.RawMessage, k string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(m[k], &v); err != nil {
		t.Fatalf("field %s: %v", k, err)
	}
	return v
}

func TestTokenizeMatchesReference(t *testing.T) {
	corpus := readJSONL(t, "../../testdata/tokenizer/corpus.jsonl")
	golden := readJSONL(t, "../../testdata/tokenizer/qwen3vl.golden.jsonl")
	want := map[string]map[string]json.RawMessage{}
	for _, g := range golden {
		want[field[string](t, g, "name")] = g
	}
	// A sample of the corpus through the command line (the tokenizer package checks all of it).
	checked := 0
	for i, c := range corpus {
		name, text := field[string](t, c, "name"), field[string](t, c, "text")
		if i%40 != 0 || text == "" || strings.HasPrefix(text, "-") || len(text) > 4096 {
			continue
		}
		g := want[name]
		out := runTokenizeJSON(t, "-model", tokDir, text)
		if ids := field[[]int32](t, g, "ids"); !slices.Equal(out.IDs, ids) {
			t.Errorf("%s: ids %v, reference %v", name, out.IDs, ids)
		}
		if p := field[[]string](t, g, "pieces"); !slices.Equal(out.Pieces, p) {
			t.Errorf("%s: pieces %q, reference %q", name, out.Pieces, p)
		}
		dec := runTokenizeJSON(t, "-model", tokDir, "-decode", fmt.Sprint(out.IDs))
		if d := field[string](t, g, "decoded"); dec.Text == nil || *dec.Text != d {
			t.Errorf("%s: -decode gave %v, reference %q", name, dec.Text, d)
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d corpus cases checked", checked)
	}
}

func TestTokenizeChatMatchesReference(t *testing.T) {
	var cases []struct {
		Name         string          `json:"name"`
		Template     string          `json:"template"`
		Tokenizer    string          `json:"tokenizer"`
		Conversation json.RawMessage `json:"conversation"`
		Options      map[string]any  `json:"options"`
		Images       [][2]int        `json:"images"`
		Videos       []any           `json:"videos"`
	}
	b, err := os.ReadFile("../../testdata/chat/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	golden := map[string]map[string]json.RawMessage{}
	for _, g := range readJSONL(t, "../../testdata/chat/golden.jsonl") {
		golden[field[string](t, g, "name")] = g
	}
	checked, expanded := 0, 0
	for i, c := range cases {
		// Every other case (the chat package checks all of them); the tokenizer folders carry the Qwen3-VL Instruct and the Qwen3.5 templates.
		if i%2 != 0 || !(c.Template == "qwen3-vl-instruct" && c.Tokenizer == "qwen3vl") && !(c.Template == "qwen3.5" && c.Tokenizer == "qwen3.5") {
			continue
		}
		g := golden[c.Name]
		if _, isErr := g["error"]; isErr {
			continue
		}
		conv := filepath.Join(t.TempDir(), "conv.json")
		if err := os.WriteFile(conv, c.Conversation, 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"-model", "../../testdata/tokenizer/" + c.Tokenizer, "-chat", conv}
		for k, v := range c.Options {
			if k == "add_generation_prompt" {
				args = append(args, fmt.Sprintf("-add-generation-prompt=%v", v))
				continue
			}
			vb, _ := json.Marshal(v)
			args = append(args, "-var", k+"="+string(vb))
		}
		out := runTokenizeJSON(t, args...)
		if text := field[string](t, g, "text"); out.Text == nil || *out.Text != text {
			t.Errorf("%s: rendered %q\nreference %q", c.Name, deref(out.Text), text)
			continue
		}
		if ids := field[[]int32](t, g, "ids"); !slices.Equal(out.IDs, ids) {
			t.Errorf("%s: ids %v, reference %v", c.Name, out.IDs, ids)
		}
		checked++
		// With image files of the reference's sizes, the pads are expanded: the ids must be
		// the processor's input_ids.
		if len(c.Images) == 0 || len(c.Videos) > 0 {
			continue
		}
		withImages := args
		for k, hw := range c.Images {
			withImages = append(withImages, "-image", writePNG(t, hw[0], hw[1], k))
		}
		out = runTokenizeJSON(t, withImages...)
		if ids := field[[]int32](t, g, "expanded_ids"); !slices.Equal(out.IDs, ids) {
			t.Errorf("%s with %d images: ids %v\nreference (processor input_ids) %v", c.Name, len(c.Images), out.IDs, ids)
		}
		expanded++
	}
	if checked < 8 || expanded < 3 {
		t.Fatalf("only %d chat cases checked, %d with images", checked, expanded)
	}
}

// writePNG writes a height×width image (its content does not matter for the ids) and returns
// its path.
func writePNG(t *testing.T, height, width, k int) string {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, width, height))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * (k + 7))
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("img%d.png", k))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// Flags may follow the argument, and "--" lets a text start with "-".
func TestTokenizeFlagsAfterArgument(t *testing.T) {
	out := runTokenizeJSON(t, "-model", tokDir, "-decode", "151644 9707 151645", "-skip-special")
	if out.Text == nil || *out.Text != "Hello" {
		t.Errorf("-decode IDS -skip-special: text %v, want \"Hello\"", deref(out.Text))
	}
	dash := runTokenizeJSON(t, "-model", tokDir, "--", "-x")
	if strings.Join(dash.Pieces, "") != "-x" {
		t.Errorf("-- -x: pieces %q", dash.Pieces)
	}
}

func TestTokenizeErrors(t *testing.T) {
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "tokenizer.json"), []byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	conv := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(conv, []byte(`[{"role": 3, "content": "x"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no text", []string{"-model", tokDir}, 2, "want exactly one text argument"},
		{"random model", []string{"-model", "random:qwen3-vl-2b", "hi"}, 1, "no tokenizer"},
		{"truncated tokenizer.json", []string{"-model", bad, "hi"}, 1, "tokenizer.json"},
		{"bad ids", []string{"-model", tokDir, "-decode", "12 x"}, 2, `token id "x"`},
		{"unknown id", []string{"-model", tokDir, "-decode", "99999999"}, 1, "99999999"},
		{"var without chat", []string{"-model", tokDir, "-var", "a=1", "hi"}, 2, "need -chat"},
		{"bad conversation", []string{"-model", tokDir, "-chat", conv}, 1, "c.json"},
		{"no such folder", []string{"-model", filepath.Join(bad, "none"), "hi"}, 1, "no such folder"},
		{"folder without tokenizer.json", []string{"-model", t.TempDir(), "hi"}, 1, "has no tokenizer.json"},
		{"missing conversation", []string{"-model", tokDir, "-chat", "nope.json"}, 1, "nope.json: no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"tokenize"}, tc.args...), &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr.String(), tc.code, tc.want)
			}
		})
	}
}
