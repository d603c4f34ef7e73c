package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/textjoin"
	"github.com/qwen3vl/qwen3vl/tokenizer"
)

// Text is the text side of a checkpoint: its tokenizer, its chat template, and the vision
// tokens textjoin places the encoder's features at.
type Text struct {
	// Dir is the folder the files were read from.
	Dir       string
	Tokenizer *tokenizer.Tokenizer
	// Template is the checkpoint's own chat template; nil when the folder has none (then
	// [Text.Render] says so).
	Template *chat.Template
	Tokens   textjoin.Tokens
}

// OpenText reads the text side from dir: a checkpoint folder, or a bare folder holding
// tokenizer.json and tokenizer_config.json (and optionally a chat template and
// generation_config.json).
func OpenText(dir string) (*Text, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("pipeline: %s: no such folder", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("pipeline: %s has no tokenizer.json; give a checkpoint folder, or a folder holding tokenizer.json and tokenizer_config.json", dir)
	}
	tk, err := tokenizer.Load(dir)
	if err != nil {
		return nil, err
	}
	t := &Text{Dir: dir, Tokenizer: tk}
	if t.Template, err = chat.LoadTemplate(dir); err != nil && !errors.Is(err, chat.ErrNoTemplate) {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		if t.Tokens, err = textjoin.LoadTokens(dir); err != nil {
			return nil, err
		}
		return t, nil
	}
	// A bare tokenizer folder: the vision tokens are the tokenizer's own entries for the
	// token texts (the ids differ between families: 151655 is Qwen3-VL's image pad, 248056
	// Qwen3.5's), with the default spatial merge size.
	t.Tokens = textjoin.DefaultTokens()
	for _, tok := range []*textjoin.Token{&t.Tokens.VisionStart, &t.Tokens.VisionEnd, &t.Tokens.ImagePad, &t.Tokens.VideoPad} {
		id, ok := tk.ID(tok.Text)
		if !ok {
			return nil, fmt.Errorf("pipeline: %s: the tokenizer has no %s token and there is no config.json to name the vision tokens", dir, tok.Text)
		}
		tok.ID = id
	}
	return t, nil
}

// ResolveText finds the text side of a model spec: a folder is read as it is (it needs no
// config.json, so a bare tokenizer folder works), a hub id is resolved as [Resolve] does
// (from the caches, or downloaded with its vision tower), and a random spec, which has no
// tokenizer, is refused.
func ResolveText(ctx context.Context, spec Spec, opts Options) (*Text, error) {
	if err := spec.CheckText(); err != nil {
		return nil, err
	}
	switch spec.Kind {
	case Random:
		return nil, fmt.Errorf("pipeline: model %s has synthetic weights and no tokenizer; give a checkpoint folder, a folder holding tokenizer.json, or a hub id", spec.Text)
	case Folder:
		if _, err := os.Stat(filepath.Join(spec.Path, "config.json")); errors.Is(err, os.ErrNotExist) {
			return OpenText(spec.Path)
		}
	}
	c, err := Resolve(ctx, spec, opts)
	if err != nil {
		return nil, err
	}
	return c.Text()
}

// Text reads the checkpoint's text side ([OpenText] on its folder).
func (c *Checkpoint) Text() (*Text, error) {
	if err := c.Spec.CheckText(); err != nil {
		return nil, err
	}
	if c.Dir == "" {
		return nil, fmt.Errorf("pipeline: model %s has no folder, so no tokenizer", c.Spec.Text)
	}
	return OpenText(c.Dir)
}

// Render renders a conversation with the checkpoint's chat template, as
// processor.apply_chat_template(..., tokenize=False) does: one vision_start, pad, vision_end
// per image or video part.
func (t *Text) Render(conv *chat.Conversation, o chat.Options) (string, error) {
	if t.Template == nil {
		return "", fmt.Errorf("pipeline: %s has no chat template (chat_template.jinja, chat_template.json, or chat_template in tokenizer_config.json)", t.Dir)
	}
	return t.Template.Render(conv, o)
}

// Describe expands a prompt's vision placeholders for the given items (see
// [textjoin.Describe]), tokenizes it and returns the ids with every span located and the MRoPE
// positions. The prompt is in the chat-template form (a rendered conversation, say): marks
// are not interpreted ([textjoin.DescribeText]); rewrite a prompt with "<image>" and
// "<video>" marks with [textjoin.ReplaceMarks] first.
func (t *Text) Describe(prompt string, images []textjoin.Grid, videos []textjoin.Video) (*textjoin.Description, error) {
	return textjoin.DescribeText(prompt, images, videos, t.Tokens, t.Tokenizer.Encode)
}
