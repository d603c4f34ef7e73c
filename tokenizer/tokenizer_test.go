package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/textjoin"
)

// The method value fits textjoin's encoder type.
var _ textjoin.Encoder = (*Tokenizer)(nil).Encode

// miniJSON is a small valid tokenizer.json (the 256 byte symbols, a few merges, two added
// tokens), passed through edit.
func miniJSON(t testing.TB, edit func(m map[string]any)) []byte {
	t.Helper()
	vocab := map[string]any{}
	for b := 0; b < 256; b++ {
		vocab[string(byteRune[b])] = b
	}
	extra := []string{"he", "ll", "llo", "hello", "Ġw", "Ġwo"}
	for i, p := range extra {
		vocab[p] = 256 + i
	}
	m := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil,
		"added_tokens": []any{
			map[string]any{"id": 262, "content": "<|end|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
			map[string]any{"id": 263, "content": "<x>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": false},
		},
		"normalizer": map[string]any{"type": "NFC"},
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": ` ?\S+|\s+`}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
		}},
		"post_processor": map[string]any{"type": "TemplateProcessing", "single": []any{map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}}, "special_tokens": map[string]any{}},
		"decoder":        map[string]any{"type": "ByteLevel"},
		"model": map[string]any{"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": "",
			"end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
			"vocab": vocab, "merges": []any{[]any{"h", "e"}, []any{"l", "l"}, []any{"ll", "o"}, []any{"he", "llo"}, []any{"Ġ", "w"}, []any{"Ġw", "o"}}},
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func model(m map[string]any) map[string]any { return m["model"].(map[string]any) }

func TestParseMini(t *testing.T) {
	for _, form := range []string{"pairs", "strings"} {
		tk, err := Parse("mini.json", miniJSON(t, func(m map[string]any) {
			if form == "strings" {
				model(m)["merges"] = []any{"h e", "l l", "ll o", "he llo", "Ġ w", "Ġw o"}
			}
		}))
		if err != nil {
			t.Fatal(err)
		}
		ids, err := tk.Encode("hello world<|end|><x>")
		if err != nil {
			t.Fatal(err)
		}
		want := []int32{259, 261, 'r', 'l', 'd', 262, 263}
		if !reflect.DeepEqual(ids, want) {
			t.Errorf("%s: ids %v, want %v", form, ids, want)
		}
		for skip, w := range map[bool]string{false: "hello world<|end|><x>", true: "hello world<x>"} {
			if got, _ := tk.Decode(ids, skip); got != w {
				t.Errorf("Decode(skip=%v) = %q, want %q", skip, got, w)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(m map[string]any)
		raw  string
		want string
	}{
		{name: "truncated", raw: `{"model": {"type": "BPE", "vocab": {"a": 0`, want: "tokenizer: x.json: unexpected end of JSON input"},
		{name: "not json", raw: `hello`, want: "tokenizer: x.json: invalid character"},
		{name: "no model", raw: `{}`, want: "tokenizer: x.json: model: missing"},
		{name: "wordpiece", edit: func(m map[string]any) { model(m)["type"] = "WordPiece" }, want: `tokenizer: x.json: model: unsupported type "WordPiece"`},
		{name: "unigram", edit: func(m map[string]any) { model(m)["type"] = "Unigram" }, want: `model: unsupported type "Unigram"`},
		{name: "normalizer", edit: func(m map[string]any) { m["normalizer"] = map[string]any{"type": "Lowercase"} }, want: `tokenizer: x.json: normalizer: unsupported type "Lowercase"`},
		{name: "metaspace", edit: func(m map[string]any) { m["pre_tokenizer"] = map[string]any{"type": "Metaspace"} }, want: `tokenizer: x.json: pre_tokenizer: unsupported type "Metaspace"`},
		{name: "decoder", edit: func(m map[string]any) { m["decoder"] = map[string]any{"type": "WordPiece"} }, want: `tokenizer: x.json: decoder: unsupported type "WordPiece"`},
		{name: "no decoder", edit: func(m map[string]any) { m["decoder"] = nil }, want: `decoder: missing`},
		{name: "bad regex", edit: func(m map[string]any) {
			m["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[0].(map[string]any)["pattern"] = map[string]any{"Regex": `(?<=a)b`}
		}, want: `pre_tokenizer: Split: pattern: lookbehind unsupported at offset 0`},
		{name: "behavior", edit: func(m map[string]any) {
			m["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[0].(map[string]any)["behavior"] = "Sideways"
		}, want: `pre_tokenizer: Split: unsupported behavior "Sideways"`},
		{name: "template", edit: func(m map[string]any) {
			m["post_processor"].(map[string]any)["single"] = []any{map[string]any{"SpecialToken": map[string]any{"id": "<s>"}}, map[string]any{"Sequence": map[string]any{"id": "A"}}}
		}, want: `post_processor: TemplateProcessing that adds tokens unsupported`},
		{name: "roberta", edit: func(m map[string]any) { m["post_processor"] = map[string]any{"type": "RobertaProcessing"} }, want: `post_processor: unsupported type "RobertaProcessing"`},
		{name: "merge unknown", edit: func(m map[string]any) { model(m)["merges"] = []any{[]any{"zz", "e"}} }, want: `model: merges: entry 0: "zz" not in the vocab`},
		{name: "merge result unknown", edit: func(m map[string]any) { model(m)["merges"] = []any{[]any{"e", "h"}} }, want: `model: merges: entry 0: merged "eh" not in the vocab`},
		{name: "merge string", edit: func(m map[string]any) { model(m)["merges"] = []any{"h e x"} }, want: `merges: entry 0 "h e x" is not two pieces`},
		{name: "duplicate id", edit: func(m map[string]any) { model(m)["vocab"].(map[string]any)["he"] = 5 }, want: `model: vocab: duplicate id 5`},
		{name: "negative id", edit: func(m map[string]any) { model(m)["vocab"].(map[string]any)["he"] = -1 }, want: `model: vocab: id -1 of "he" out of range`},
		{name: "sparse ids", edit: func(m map[string]any) { model(m)["vocab"].(map[string]any)["he"] = 1 << 30 }, want: `model: vocab: ids too sparse`},
		{name: "duplicate added", edit: func(m map[string]any) {
			m["added_tokens"].([]any)[1].(map[string]any)["id"] = 262
		}, want: `added_tokens: entry 1 ("<x>"): duplicate id 262`},
		{name: "dropout", edit: func(m map[string]any) { model(m)["dropout"] = 0.1 }, want: `model: dropout unsupported`},
		{name: "byte fallback", edit: func(m map[string]any) { model(m)["byte_fallback"] = true }, want: `model: byte_fallback unsupported`},
		{name: "unk", edit: func(m map[string]any) { model(m)["unk_token"] = "h" }, want: `model: unk_token unsupported`},
		{name: "truncation", edit: func(m map[string]any) { m["truncation"] = map[string]any{"max_length": 5} }, want: `truncation: unsupported`},
		{name: "prefix space", edit: func(m map[string]any) {
			m["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[1].(map[string]any)["add_prefix_space"] = true
		}, want: `pre_tokenizer: ByteLevel: add_prefix_space true unsupported`},
	}
	for _, tc := range tests {
		data := []byte(tc.raw)
		if tc.raw == "" {
			data = miniJSON(t, tc.edit)
		}
		_, err := Parse("x.json", data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestSplitBehaviors(t *testing.T) {
	tests := []struct {
		behavior string
		invert   bool
		want     []string
	}{
		{"Isolated", false, []string{"a", "-", "-", "b", "-", "c"}},
		{"Removed", false, []string{"a", "b", "c"}},
		{"MergedWithPrevious", false, []string{"a-", "-", "b-", "c"}},
		{"MergedWithNext", false, []string{"a", "-", "-b", "-c"}},
		{"Contiguous", false, []string{"a", "--", "b", "-", "c"}},
		{"Removed", true, []string{"-", "-", "-"}},
		{"Isolated", true, []string{"a", "-", "-", "b", "-", "c"}},
	}
	for _, tc := range tests {
		tk, err := Parse("split.json", miniJSON(t, func(m map[string]any) {
			p := m["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[0].(map[string]any)
			p["pattern"] = map[string]any{"String": "-"}
			p["behavior"] = tc.behavior
			p["invert"] = tc.invert
		}))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range tk.pretokens("a--b-c") {
			got = append(got, string(unByteLevel(p)))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s invert=%v: %q, want %q", tc.behavior, tc.invert, got, tc.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Errorf("empty dir: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "tokenizer.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory as file: %v", err)
	}
	dir2 := t.TempDir()
	os.WriteFile(filepath.Join(dir2, "tokenizer.json"), miniJSON(t, nil), 0o644)
	if _, err := Load(dir2); err == nil || !strings.Contains(err.Error(), "tokenizer_config.json") {
		t.Errorf("no tokenizer_config.json: %v", err)
	}
	os.WriteFile(filepath.Join(dir2, "tokenizer_config.json"), []byte(`{"eos_token": "<nope>"}`), 0o644)
	if _, err := Load(dir2); err == nil || !strings.Contains(err.Error(), `eos_token "<nope>" is not in the vocabulary`) {
		t.Errorf("bad eos: %v", err)
	}
	os.WriteFile(filepath.Join(dir2, "tokenizer_config.json"), []byte(`{"eos_token": {"content": "<|end|>"}, "pad_token": null}`), 0o644)
	os.WriteFile(filepath.Join(dir2, "generation_config.json"), []byte(`{"eos_token_id": 263, "pad_token_id": 262}`), 0o644)
	tk, err := Load(dir2)
	if err != nil {
		t.Fatal(err)
	}
	s := tk.Specials()
	if !reflect.DeepEqual(s.EOS, []int32{263}) || s.TokenizerEOS != 262 || !s.HasPad || s.Pad != 262 || s.HasBOS || s.IMStart != -1 {
		t.Errorf("specials %+v", s)
	}
}

func TestSpecialsQwen(t *testing.T) {
	for fam, base := range map[string]int32{"qwen3vl": 151643, "qwen3.5": 248044} {
		tk := family(t, fam)
		s := tk.Specials()
		want := Specials{EOS: []int32{base + 2, base}, TokenizerEOS: base + 2, HasTokenizerEOS: true,
			Pad: base, HasPad: true, BOS: -1, IMStart: base + 1, IMEnd: base + 2,
			VisionStart: base + 9, VisionEnd: base + 10, ImagePad: base + 12, VideoPad: base + 13}
		if !reflect.DeepEqual(s, want) {
			t.Errorf("%s: %+v\nwant %+v", fam, s, want)
		}
		wantLen := map[string]int{"qwen3vl": 151669, "qwen3.5": 248077}[fam]
		if tk.Len() != wantLen {
			t.Errorf("%s: Len %d, want %d", fam, tk.Len(), wantLen)
		}
		if !tk.Special(base+1) || tk.Special(base+14) && fam == "qwen3vl" {
			t.Errorf("%s: special flags", fam)
		}
		if id, ok := tk.ID("<|im_start|>"); !ok || id != base+1 {
			t.Errorf("%s: ID(<|im_start|>) = %d %v", fam, id, ok)
		}
		if _, ok := tk.Piece(int32(wantLen)); ok {
			t.Errorf("%s: Piece beyond the vocabulary", fam)
		}
	}
}

func TestEncodeHandMade(t *testing.T) {
	tk := family(t, "qwen3vl")
	id := func(p string) int32 {
		v, ok := tk.ID(p)
		if !ok {
			t.Fatalf("%q not in the vocab", p)
		}
		return v
	}
	tests := []struct {
		text string
		want []int32
	}{
		{"Hello world", []int32{id("Hello"), id("Ġworld")}},
		{"<|im_start|>user\n", []int32{id("<|im_start|>"), id("user"), id("Ċ")}},
		{"a   b", []int32{id("a"), id("ĠĠ"), id("Ġb")}},
		{"", nil},
	}
	for _, tc := range tests {
		got, err := tk.Encode(tc.text)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Encode(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	if _, err := tk.Encode("ab\xffc"); err == nil || !strings.Contains(err.Error(), "invalid UTF-8 at byte offset 2") {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if _, err := tk.Decode([]int32{1, 999999}, false); err == nil || !strings.Contains(err.Error(), "unknown id 999999 at index 1") {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := tk.NewStream(false).Next(-1); err == nil {
		t.Error("stream accepted id -1")
	}
}

// refBPE is the slow obvious BPE: symbols as strings, each step merges the leftmost pair of
// lowest rank, found by looking every adjacent pair up by its strings.
func refBPE(tk *Tokenizer, ranks map[[2]string]int, word string) []int32 {
	var syms []string
	for i := 0; i < len(word); i++ {
		s := string(byteRune[word[i]])
		if _, ok := tk.vocab[s]; ok {
			syms = append(syms, s)
		}
	}
	for {
		best, at := -1, -1
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := ranks[[2]string{syms[i], syms[i+1]}]; ok && (best < 0 || r < best) {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		syms[at] += syms[at+1]
		syms = append(syms[:at+1], syms[at+2:]...)
	}
	ids := make([]int32, len(syms))
	for i, s := range syms {
		ids[i] = tk.vocab[s]
	}
	return ids
}

func rankTable(tk *Tokenizer) map[[2]string]int {
	ranks := make(map[[2]string]int, tk.merges.n)
	tk.merges.each(func(k, v uint64) {
		a, b := tk.pieces[int32(k>>32)], tk.pieces[int32(uint32(k))]
		ranks[[2]string{a, b}] = int(v >> 32)
	})
	return ranks
}

// TestBPEAgainstReference checks the scan and heap merge loops against refBPE on the
// pre-tokens of random text and of long words.
func TestBPEAgainstReference(t *testing.T) {
	tk := family(t, "qwen3vl")
	ranks := rankTable(tk)
	r := rand.New(rand.NewSource(7))
	words := []string{"hello", "internationalization", strings.Repeat("ab", 40), strings.Repeat(" ", 70),
		"Pneumonoultramicroscopicsilicovolcanoconiosis", "你好世界，今天天气很好", "🙂🙃🙂🙃"}
	alpha := []rune("etaoinshrdlucmfwypvbgkjqxz ETAOINSé你好の🙂")
	for i := 0; i < 3000; i++ {
		n := 1 + r.Intn(80)
		var b strings.Builder
		for k := 0; k < n; k++ {
			b.WriteRune(alpha[r.Intn(len(alpha))])
		}
		words = append(words, b.String())
	}
	e := tk.newEncoder()
	for _, w := range words {
		want := refBPE(tk, ranks, w)
		for _, heap := range []bool{false, true} {
			e.forceHeap = heap
			got := tk.merge(e, w, nil)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("merge(%q, heap=%v) = %v, reference %v", w, heap, got, want)
			}
		}
	}
}

func TestLongWord(t *testing.T) {
	tk := family(t, "qwen3vl")
	for _, s := range []string{strings.Repeat("a", 100000), strings.Repeat("ab1 ", 25000), strings.Repeat("!", 100000)} {
		ids, err := tk.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := tk.Decode(ids, false); d != s {
			t.Fatal("round trip of a long word failed")
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(miniJSON(f, nil))
	f.Add(miniJSON(f, func(m map[string]any) { model(m)["merges"] = []any{"h e", "l l"} }))
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"decoder":{"type":"ByteLevel"},"pre_tokenizer":{"type":"ByteLevel"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tk, err := Parse("fuzz.json", data)
		if err != nil {
			return
		}
		ids, err := tk.Encode("hello wörld <x> 12")
		if err != nil {
			return
		}
		if _, err := tk.Decode(ids, true); err != nil {
			t.Fatalf("decode of own ids: %v", err)
		}
	})
}

func FuzzEncodeDecode(f *testing.F) {
	tk := family(f, "qwen3vl")
	for _, s := range []string{"Hello world", "<|im_start|>user\nHi<|im_end|>", "a\uFFFDb", "e\u0301\u0316", "  \n\n x", "你好🙂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			if _, err := tk.Encode(s); err == nil {
				t.Fatal("invalid UTF-8 accepted")
			}
			return
		}
		ids, err := tk.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		d, err := tk.Decode(ids, false)
		if err != nil {
			t.Fatal(err)
		}
		if d != nfc(s) {
			t.Fatalf("Decode(Encode(%q)) = %q, want NFC %q", s, d, nfc(s))
		}
		st := tk.NewStream(false)
		var b strings.Builder
		for _, id := range ids {
			c, err := st.Next(id)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(c)
		}
		rest, ok := strings.CutPrefix(d, b.String())
		if !ok || (rest != "" && !strings.HasSuffix(rest, "\uFFFD")) {
			t.Fatalf("stream %q vs decoded %q", b.String(), d)
		}
	})
}

func TestConcurrentEncode(t *testing.T) {
	tk := family(t, "qwen3vl")
	texts := []string{"Hello world", "你好，世界", "e\u0301 \u0316x", "<|im_start|>hi<|im_end|>", strings.Repeat("ab ", 100)}
	want := make([][]int32, len(texts))
	for i, s := range texts {
		want[i], _ = tk.Encode(s)
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			for k := 0; k < 200; k++ {
				i := k % len(texts)
				got, err := tk.Encode(texts[i])
				if err == nil && !reflect.DeepEqual(got, want[i]) {
					err = errors.New("concurrent encode differs")
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadLimitsAndForms(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokenizer.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	if _, err := Load(dir); err == nil || !errors.Is(err, fsutil.ErrTooLarge) || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Errorf("oversized file: %v", err)
	}

	// The released files are indented JSON; the committed ones are compact.
	var indented bytes.Buffer
	if err := json.Indent(&indented, miniJSON(t, nil), "", "  "); err != nil {
		t.Fatal(err)
	}
	a, err := Parse("compact.json", miniJSON(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse("indented.json", indented.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	x, _ := a.Encode("hello world<|end|>")
	y, _ := b.Encode("hello world<|end|>")
	if !reflect.DeepEqual(x, y) {
		t.Errorf("indented %v, compact %v", y, x)
	}

	// tokenizer_config.json added_tokens_decoder: must agree; missing tokens are added.
	dir2 := t.TempDir()
	os.WriteFile(filepath.Join(dir2, "tokenizer.json"), miniJSON(t, nil), 0o644)
	os.WriteFile(filepath.Join(dir2, "tokenizer_config.json"), []byte(`{"added_tokens_decoder": {"262": {"content": "<|other|>"}}}`), 0o644)
	if _, err := Load(dir2); err == nil || !strings.Contains(err.Error(), `added_tokens_decoder[262] is "<|other|>", tokenizer.json has "<|end|>"`) {
		t.Errorf("disagreeing added_tokens_decoder: %v", err)
	}
	os.WriteFile(filepath.Join(dir2, "tokenizer_config.json"), []byte(`{"added_tokens_decoder": {"264": {"content": "<|new|>", "special": true}}}`), 0o644)
	tk, err := Load(dir2)
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := tk.Encode("he<|new|>")
	if !reflect.DeepEqual(ids, []int32{256, 264}) || !tk.Special(264) || tk.Len() != 265 {
		t.Errorf("added from config: ids %v special %v len %d", ids, tk.Special(264), tk.Len())
	}
}

func TestAddedTokenFlags(t *testing.T) {
	tk, err := Parse("flags.json", miniJSON(t, func(m map[string]any) {
		at := m["added_tokens"].([]any)
		at[0].(map[string]any)["lstrip"] = true
		at[0].(map[string]any)["rstrip"] = true
		at[1].(map[string]any)["single_word"] = true
	}))
	if err != nil {
		t.Fatal(err)
	}
	var segs []string
	tk.rawMatch.splitAdded("a  <|end|>  b c<x>d <x> e", false, func(s string) { segs = append(segs, s) },
		func(id int32) { segs = append(segs, "#"+string(rune('0'+id-262))) })
	want := []string{"a", "#0", "b c<x>d ", "#1", " e"}
	if !reflect.DeepEqual(segs, want) {
		t.Errorf("segments %q, want %q", segs, want)
	}
	var segs2 []string
	tk.rawMatch.splitAdded("x<|end|>y", true, func(s string) { segs2 = append(segs2, s) }, func(int32) { segs2 = append(segs2, "#") })
	if !reflect.DeepEqual(segs2, []string{"x<|end|>y"}) {
		t.Errorf("split_special_tokens: %q", segs2)
	}
}

// A split pattern that backtracks exponentially on some text (nested alternatives under a
// repeat) must stop with an error, not wedge the encoder.
func TestPathologicalPattern(t *testing.T) {
	data := miniJSON(t, func(m map[string]any) {
		m["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[0].(map[string]any)["pattern"] = map[string]any{"Regex": `(?:a|a)+b`}
	})
	tk, err := Parse("pathological.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Encode("aab"); err != nil {
		t.Fatalf("a short text: %v", err)
	}
	_, err = tk.Encode(strings.Repeat("a", 60))
	if err == nil || !strings.Contains(err.Error(), "backtracked") || !strings.Contains(err.Error(), "pathological.json") {
		t.Fatalf("got %v, want a backtracking error naming the file", err)
	}
	// The encoder is reusable afterwards.
	if _, err := tk.Encode("aab"); err != nil {
		t.Fatalf("after the error: %v", err)
	}
}
