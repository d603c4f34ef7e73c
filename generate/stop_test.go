package generate

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/qwen3vl/qwen3vl/tokenizer"
)

var (
	tokOnce sync.Once
	tokQwen *tokenizer.Tokenizer
	tokErr  error
)

func qwenTokenizer(t testing.TB) *tokenizer.Tokenizer {
	t.Helper()
	tokOnce.Do(func() { tokQwen, tokErr = tokenizer.Load(filepath.Join("..", "testdata", "tokenizer", "qwen3vl")) })
	if tokErr != nil {
		t.Fatal(tokErr)
	}
	return tokQwen
}

// TestStopStringsGolden checks StopMatcher against HF's StopStringCriteria on the real
// Qwen3-VL vocabulary, one decision per generated id (tools/reference/logits_goldens.py).
func TestStopStringsGolden(t *testing.T) {
	tok := qwenTokenizer(t)
	type line struct {
		Name        string   `json:"name"`
		StopStrings []string `json:"stop_strings"`
		IDs         []int32  `json:"ids"`
		PromptLen   int      `json:"prompt_len"`
		Stop        []bool   `json:"stop"`
	}
	lines := readJSONL[line](t, filepath.Join("..", "testdata", "generate", "stop_strings.jsonl"))
	if len(lines) == 0 {
		t.Fatal("no cases")
	}
	for _, l := range lines {
		m := NewStopMatcher(tok, l.StopStrings)
		for _, id := range l.IDs[:l.PromptLen] {
			m.Push(id)
		}
		for i, id := range l.IDs[l.PromptLen:] {
			if got := m.Push(id) >= 0; got != l.Stop[i] {
				t.Errorf("%s: after generated id %d (%d): stop %v, HF %v", l.Name, i, id, got, l.Stop[i])
			}
		}
	}
}

// TestStopMatcherTable: cases the goldens do not cover (which string matched, empty
// strings, a string longer than the tail kept).
func TestStopMatcherTable(t *testing.T) {
	tok := qwenTokenizer(t)
	enc := func(s string) []int32 {
		ids, err := tok.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	for _, c := range []struct {
		stops []string
		text  string
		want  []int // index matched after each id (-1 none)
	}{
		{[]string{"", "b"}, "a b", []int{-1, 0}},
		{[]string{"xyz", " b"}, "a b", []int{-1, 1}},
		{[]string{"a long stop string here"}, "this is a long stop string here!", nil},
	} {
		m := NewStopMatcher(tok, c.stops)
		ids := enc(c.text)
		var got []int
		for _, id := range ids {
			got = append(got, m.Push(id))
		}
		if c.want == nil { // expect exactly one match, at the id that ends "here"
			n := 0
			for _, g := range got {
				if g >= 0 {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%q in %q: matches %v", c.stops, c.text, got)
			}
			continue
		}
		if len(got) != len(c.want) {
			t.Fatalf("%q: ids %v", c.text, ids)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q in %q: %v, want %v", c.stops, c.text, got, c.want)
				break
			}
		}
	}
}

func TestByteOf(t *testing.T) {
	// bytes_to_unicode: printable bytes map to themselves, the others to U+0100 + n.
	for _, c := range []struct {
		r  rune
		b  byte
		ok bool
	}{{'!', '!', true}, {'Ġ', ' ', true}, {'Ċ', '\n', true}, {0x100, 0, true}, {0x143, 0xAD, true}, {0x144, 0, false}, {' ', 0, false}, {'é', 0xE9, true}} {
		b, ok := byteOf(c.r)
		if b != c.b || ok != c.ok {
			t.Errorf("byteOf(%U) = %#x %v, want %#x %v", c.r, b, ok, c.b, c.ok)
		}
	}
}
