package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/tokenizer/internal/pattern"
)

// MaxFileSize is the largest file Load reads (512 MiB).
const MaxFileSize = 512 << 20

// Load reads dir/tokenizer.json and dir/tokenizer_config.json (both required) and
// dir/generation_config.json (optional). dir is a checkpoint folder or a bare tokenizer
// folder. Files must be regular files of at most MaxFileSize bytes.
func Load(dir string) (*Tokenizer, error) {
	path := filepath.Join(dir, "tokenizer.json")
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	cpath := filepath.Join(dir, "tokenizer_config.json")
	cdata, err := readFile(cpath)
	if err != nil {
		return nil, err
	}
	var gdata []byte
	gpath := filepath.Join(dir, "generation_config.json")
	if _, err := os.Lstat(gpath); err == nil {
		if gdata, err = readFile(gpath); err != nil {
			return nil, err
		}
	}
	if err := t.configure(cpath, cdata, gpath, gdata); err != nil {
		return nil, err
	}
	return t, nil
}

// readFile reads a regular file of at most MaxFileSize bytes.
func readFile(path string) ([]byte, error) {
	data, err := fsutil.ReadFile(path, MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return data, nil
}

// The parts of tokenizer.json this package reads.
type fileJSON struct {
	Truncation    json.RawMessage `json:"truncation"`
	Padding       json.RawMessage `json:"padding"`
	AddedTokens   []addedJSON     `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         *modelJSON      `json:"model"`
}

type addedJSON struct {
	ID         *int64 `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type modelJSON struct {
	Type                    string           `json:"type"`
	Dropout                 *float64         `json:"dropout"`
	UnkToken                *string          `json:"unk_token"`
	ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string          `json:"end_of_word_suffix"`
	ByteFallback            bool             `json:"byte_fallback"`
	IgnoreMerges            bool             `json:"ignore_merges"`
	Vocab                   map[string]int64 `json:"vocab"`
	Merges                  json.RawMessage  `json:"merges"`
}

type typed struct {
	Type string `json:"type"`
}

// isNull reports whether a raw JSON value is absent or null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// Parse builds a Tokenizer from the bytes of a tokenizer.json; name is used in errors.
// Specials hold only what tokenizer.json itself tells (see Specials).
func Parse(name string, tokenizerJSON []byte) (t *Tokenizer, err error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("tokenizer: %s: %s", name, fmt.Sprintf(format, args...))
	}
	var f fileJSON
	if err := json.Unmarshal(tokenizerJSON, &f); err != nil {
		return nil, fail("%v", err)
	}
	if !isNull(f.Truncation) {
		return nil, fail("truncation: unsupported (must be null)")
	}
	if !isNull(f.Padding) {
		return nil, fail("padding: unsupported (must be null)")
	}
	if f.Model == nil {
		return nil, fail("model: missing")
	}
	t = &Tokenizer{name: name}
	if err := t.parseNormalizer(f.Normalizer); err != nil {
		return nil, fail("normalizer: %v", err)
	}
	if err := t.parsePreTokenizer(f.PreTokenizer); err != nil {
		return nil, fail("pre_tokenizer: %v", err)
	}
	if err := parsePostProcessor(f.PostProcessor); err != nil {
		return nil, fail("post_processor: %v", err)
	}
	if err := parseDecoder(f.Decoder); err != nil {
		return nil, fail("decoder: %v", err)
	}
	if err := t.parseModel(f.Model); err != nil {
		return nil, fail("model: %v", err)
	}
	if err := t.setAdded(f.AddedTokens); err != nil {
		return nil, fail("added_tokens: %v", err)
	}
	t.specials = defaultSpecials()
	t.lookupNamedSpecials()
	t.pool.New = func() any { return t.newEncoder() }
	t.pool.free = make(chan *encoder, 2*runtime.GOMAXPROCS(0))
	return t, nil
}

// normalizer kinds.
const (
	normNone = iota
	normNFC
	normNFD
	normNFKC
	normNFKD
)

func (t *Tokenizer) parseNormalizer(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var n struct {
		Type        string            `json:"type"`
		Normalizers []json.RawMessage `json:"normalizers"`
	}
	if err := json.Unmarshal(raw, &n); err != nil {
		return err
	}
	switch n.Type {
	case "NFC":
		t.norms = append(t.norms, normNFC)
	case "NFD":
		t.norms = append(t.norms, normNFD)
	case "NFKC":
		t.norms = append(t.norms, normNFKC)
	case "NFKD":
		t.norms = append(t.norms, normNFKD)
	case "Sequence":
		for _, s := range n.Normalizers {
			if err := t.parseNormalizer(s); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unsupported type %q", n.Type)
	}
	return nil
}

// Split behaviors (tokenizers' SplitDelimiterBehavior).
const (
	behaviorIsolated = iota
	behaviorRemoved
	behaviorMergedWithPrevious
	behaviorMergedWithNext
	behaviorContiguous
)

var behaviors = map[string]int{
	"Isolated": behaviorIsolated, "Removed": behaviorRemoved,
	"MergedWithPrevious": behaviorMergedWithPrevious, "MergedWithNext": behaviorMergedWithNext,
	"Contiguous": behaviorContiguous,
}

// gpt2Pattern is the split regex ByteLevel applies when its use_regex is true.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

func (t *Tokenizer) parsePreTokenizer(raw json.RawMessage) error {
	var steps []json.RawMessage
	var top struct {
		Type          string            `json:"type"`
		Pretokenizers []json.RawMessage `json:"pretokenizers"`
	}
	if isNull(raw) {
		return errors.New("missing (a ByteLevel pre-tokenizer is required)")
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return err
	}
	if top.Type == "Sequence" {
		steps = top.Pretokenizers
	} else {
		steps = []json.RawMessage{raw}
	}
	byteLevel := false
	for i, s := range steps {
		var p struct {
			Type           string          `json:"type"`
			Pattern        json.RawMessage `json:"pattern"`
			Behavior       string          `json:"behavior"`
			Invert         bool            `json:"invert"`
			AddPrefixSpace bool            `json:"add_prefix_space"`
			UseRegex       *bool           `json:"use_regex"`
		}
		if err := json.Unmarshal(s, &p); err != nil {
			return err
		}
		if byteLevel {
			return fmt.Errorf("step %d (%q) after ByteLevel unsupported", i, p.Type)
		}
		switch p.Type {
		case "Split":
			var pat struct {
				Regex  *string `json:"Regex"`
				String *string `json:"String"`
			}
			if err := json.Unmarshal(p.Pattern, &pat); err != nil {
				return fmt.Errorf("Split pattern: %v", err)
			}
			var src string
			switch {
			case pat.Regex != nil:
				src = *pat.Regex
			case pat.String != nil:
				src = quoteLiteral(*pat.String)
			default:
				return errors.New("Split pattern: neither Regex nor String")
			}
			re, err := pattern.Compile(src)
			if err != nil {
				return fmt.Errorf("Split: %v", err)
			}
			b, ok := behaviors[p.Behavior]
			if !ok {
				return fmt.Errorf("Split: unsupported behavior %q", p.Behavior)
			}
			t.splits = append(t.splits, splitStep{re: re, behavior: b, invert: p.Invert})
		case "ByteLevel":
			if p.AddPrefixSpace {
				return errors.New("ByteLevel: add_prefix_space true unsupported")
			}
			if p.UseRegex == nil || *p.UseRegex {
				re, err := pattern.Compile(gpt2Pattern)
				if err != nil {
					return err
				}
				t.splits = append(t.splits, splitStep{re: re, behavior: behaviorIsolated})
			}
			byteLevel = true
		default:
			return fmt.Errorf("unsupported type %q", p.Type)
		}
	}
	if !byteLevel {
		return errors.New("no ByteLevel step (required)")
	}
	return nil
}

// quoteLiteral escapes s for the pattern engine.
func quoteLiteral(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$-&`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func parsePostProcessor(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var p struct {
		Type          string            `json:"type"`
		Single        []json.RawMessage `json:"single"`
		SpecialTokens map[string]any    `json:"special_tokens"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return err
	}
	switch p.Type {
	case "ByteLevel":
		return nil // only trims offsets
	case "TemplateProcessing":
		if len(p.Single) != 1 || len(p.SpecialTokens) != 0 {
			return errors.New("TemplateProcessing that adds tokens unsupported (single must be [A])")
		}
		var item struct {
			Sequence *struct {
				ID string `json:"id"`
			} `json:"Sequence"`
		}
		if err := json.Unmarshal(p.Single[0], &item); err != nil {
			return err
		}
		if item.Sequence == nil || item.Sequence.ID != "A" {
			return errors.New("TemplateProcessing that adds tokens unsupported (single must be [A])")
		}
		return nil
	}
	return fmt.Errorf("unsupported type %q", p.Type)
}

func parseDecoder(raw json.RawMessage) error {
	if isNull(raw) {
		return errors.New("missing (a ByteLevel decoder is required)")
	}
	var d typed
	if err := json.Unmarshal(raw, &d); err != nil {
		return err
	}
	if d.Type != "ByteLevel" {
		return fmt.Errorf("unsupported type %q", d.Type)
	}
	return nil
}
