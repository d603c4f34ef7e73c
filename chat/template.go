package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/internal/jinja"
)

// MaxTemplateBytes bounds a template file; MaxConfigBytes a JSON file that
// carries one (tokenizer_config.json also lists every added token).
const (
	MaxTemplateBytes = 4 << 20
	MaxConfigBytes   = 64 << 20
)

// Template is a parsed chat template. It is read-only: Render may be called
// concurrently.
type Template struct {
	// Source is the template text; File the file it came from ("" for
	// ParseTemplate).
	Source, File string
	// SpecialTokens are the tokenizer's named special tokens (bos_token,
	// eos_token, unk_token, sep_token, pad_token, cls_token, mask_token:
	// those set), which the processor passes to the template as variables.
	// LoadTemplate reads them from the folder's tokenizer_config.json.
	SpecialTokens map[string]string
	t             *jinja.Template
}

// Name is the template's name in error messages.
func (t *Template) Name() string { return t.t.Name() }

// ParseTemplate parses template source src; name (e.g. "qwen3.5.jinja") is
// used in error messages. Unsupported constructs are errors here.
func ParseTemplate(name, src string) (*Template, error) {
	jt, err := jinja.Parse(name, src)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	return &Template{Source: src, t: jt}, nil
}

// LoadTemplate loads the chat template of the checkpoint folder dir, from
// the first of these that has one, in the order transformers' processor
// (ProcessorMixin.from_pretrained) takes them:
//
//  1. processor_config.json, key "chat_template" (a string);
//  2. chat_template.json, key "chat_template" (the legacy processor file,
//     preferred by the processor over chat_template.jinja when both exist);
//  3. chat_template.jinja;
//  4. tokenizer_config.json, key "chat_template": a string, or a list of
//     {"name", "template"} of which the one named "default" (the tokenizer's
//     template, for a folder without a processor's).
//
// No template is an error naming dir that wraps [ErrNoTemplate].
func LoadTemplate(dir string) (*Template, error) {
	t, err := loadTemplate(dir)
	if err != nil {
		return nil, err
	}
	if t.SpecialTokens, err = specialTokens(dir); err != nil {
		return nil, err
	}
	return t, nil
}

func loadTemplate(dir string) (*Template, error) {
	if src, file, ok, err := jsonTemplate(dir, "processor_config.json", false); err != nil || ok {
		return parseFile(src, file, err)
	}
	if src, file, ok, err := jsonTemplate(dir, "chat_template.json", true); err != nil || ok {
		return parseFile(src, file, err)
	}
	file := filepath.Join(dir, "chat_template.jinja")
	data, err := readBounded(file, MaxTemplateBytes)
	if err == nil {
		return parseFile(string(data), file, nil)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("chat: %w", err)
	}
	if src, file, ok, err := tokenizerTemplate(dir); err != nil || ok {
		return parseFile(src, file, err)
	}
	return nil, fmt.Errorf("chat: %s: %w (looked for processor_config.json, chat_template.json, chat_template.jinja and tokenizer_config.json)", dir, ErrNoTemplate)
}

// ErrNoTemplate is returned (wrapped) by [LoadTemplate] for a folder that has no chat template.
var ErrNoTemplate = errors.New("no chat template")

func parseFile(src, file string, err error) (*Template, error) {
	if err != nil {
		return nil, err
	}
	t, err := ParseTemplate(filepath.Base(file), src)
	if err != nil {
		return nil, err
	}
	t.File = file
	return t, nil
}

// readBounded reads a template or config file of at most limit bytes.
func readBounded(file string, limit int64) ([]byte, error) { return fsutil.ReadFile(file, limit) }

// readObject reads the JSON object in file (at most MaxConfigBytes); found is false, with no
// error, when there is no such file.
func readObject(file string) (obj map[string]json.RawMessage, found bool, err error) {
	data, err := readBounded(file, MaxConfigBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("chat: %w", err)
	}
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, false, fmt.Errorf("chat: %s: %v", file, err)
	}
	return obj, true, nil
}

// jsonTemplate reads key "chat_template" of dir/name. ok is false when the
// file or (unless required) the key is absent.
func jsonTemplate(dir, name string, required bool) (src, file string, ok bool, err error) {
	file = filepath.Join(dir, name)
	obj, found, err := readObject(file)
	if err != nil || !found {
		return "", file, false, err
	}
	raw, has := obj["chat_template"]
	if !has || string(raw) == "null" {
		if required {
			return "", file, false, fmt.Errorf("chat: %s: no \"chat_template\" key", file)
		}
		return "", file, false, nil
	}
	if err := json.Unmarshal(raw, &src); err != nil {
		return "", file, false, fmt.Errorf("chat: %s: \"chat_template\" is not a string", file)
	}
	return src, file, true, nil
}

func tokenizerTemplate(dir string) (src, file string, ok bool, err error) {
	file = filepath.Join(dir, "tokenizer_config.json")
	obj, found, err := readObject(file)
	if err != nil || !found {
		return "", file, false, err
	}
	raw, has := obj["chat_template"]
	if !has || string(raw) == "null" {
		return "", file, false, nil
	}
	if json.Unmarshal(raw, &src) == nil {
		return src, file, true, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &named); err != nil {
		return "", file, false, fmt.Errorf("chat: %s: \"chat_template\" is neither a string nor a list of {name, template}", file)
	}
	var names []string
	for _, n := range named {
		if n.Name == "default" {
			return n.Template, file, true, nil
		}
		names = append(names, n.Name)
	}
	return "", file, false, fmt.Errorf("chat: %s: no chat template named \"default\" (have %s)", file, strings.Join(names, ", "))
}

// specialAttributes are transformers' SPECIAL_TOKENS_ATTRIBUTES.
var specialAttributes = []string{"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}

// specialTokens reads the named special tokens of dir/tokenizer_config.json
// (a string, or an added token {"content": …}); no file is no tokens.
func specialTokens(dir string) (map[string]string, error) {
	file := filepath.Join(dir, "tokenizer_config.json")
	obj, found, err := readObject(file)
	if err != nil || !found {
		return nil, err
	}
	out := map[string]string{}
	for _, attr := range specialAttributes {
		raw, ok := obj[attr]
		if !ok || string(raw) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out[attr] = s
			continue
		}
		var added struct {
			Content *string `json:"content"`
		}
		if json.Unmarshal(raw, &added) == nil && added.Content != nil {
			out[attr] = *added.Content
		}
	}
	return out, nil
}
