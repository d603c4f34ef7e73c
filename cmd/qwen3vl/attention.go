package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/picture"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// checkAttnFlags vets ask's -attn-png and -attn-per-token before any work: the picture needs
// an image, is not drawn for videos, and goes to a file (not a folder, not an input).
func checkAttnFlags(path string, perToken bool, images, videos []string) error {
	if path == "" {
		if perToken {
			return usagef("-attn-per-token needs -attn-png OUT.png")
		}
		return nil
	}
	if len(images) == 0 {
		return usagef("-attn-png %s needs an -image to draw the attention on", path)
	}
	if len(videos) > 0 {
		return usagef("-attn-png draws attention on images only: drop -video (or -attn-png)")
	}
	return checkPNGPath("-attn-png", path, images)
}

// perTokenPath is the file of answer token t beside path: OUT.png → OUT-007.png (OUT →
// OUT-007.png).
func perTokenPath(path string, t int) string {
	base := path
	if ext := filepath.Ext(path); strings.EqualFold(ext, ".png") {
		base = strings.TrimSuffix(path, ext)
	}
	return fmt.Sprintf("%s-%03d.png", base, t)
}

// writeAttention draws the attention pictures of ans: the average over the answer's tokens in
// path and, with perToken, each token's in perTokenPath(path, t).
func writeAttention(path string, perToken bool, model string, a *pipeline.Assistant, rec *pipeline.AttentionRecord, items []pipeline.Item, ans *pipeline.Answer) error {
	o := picture.AttentionOptions{
		MapOptions: picture.MapOptions{PatchSize: a.Config.PatchSize, MergeSize: a.Config.SpatialMergeSize},
		Answer:     ans.Text,
	}
	draw := func(path string, tokens []int, title string) error {
		panels, err := picture.AnswerPanels(rec, items, tokens, a.Checkpoint.Image)
		if err != nil {
			return err
		}
		o.Title = title
		return fsutil.WriteFile(path, func(w io.Writer) error { return picture.Attention(w, panels, o) })
	}
	n := len(rec.Rows)
	head := fmt.Sprintf("%s: attention of decoder layer %d (the last) to each image token, averaged over its %d heads", model, rec.Layer, rec.Heads)
	if err := draw(path, nil, fmt.Sprintf("%s and the %d answer tokens", head, n)); err != nil {
		return err
	}
	if !perToken {
		return nil
	}
	for t := range n {
		piece, err := a.Text.Tokenizer.Decode(ans.IDs[t:t+1], false)
		if err != nil {
			return err
		}
		if err := draw(perTokenPath(path, t), []int{t}, fmt.Sprintf("%s, for answer token %d of %d: %q", head, t, n, piece)); err != nil {
			return err
		}
	}
	return nil
}
