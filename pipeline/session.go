package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/generate"
	"github.com/qwen3vl/qwen3vl/text"
	"github.com/qwen3vl/qwen3vl/textjoin"
)

// Session is one conversation with an [Assistant] over several turns. It keeps the decoder's
// KV cache and the ids it holds, and the encoded features of the items, so that a turn whose
// prompt extends the previous one (a chat: the same turns, the answer, a new message)
// prefills only the new tokens and encodes only the new items. A Session is not safe for
// concurrent use; sessions of one Assistant are independent.
type Session struct {
	a     *Assistant
	cache *text.Cache
	// ids are the tokens whose keys and values the cache holds, in order.
	ids []int32
	// features are the encoded items by their index in the turn's item list, with the grid
	// they were encoded at (an item that changed is encoded again).
	features map[int]itemFeatures
	// enc encodes the items when set (NewSessionWith); nil: the tower, directly.
	enc ItemEncoder
}

// ItemEncoder encodes items of one kind, in one call or several, and returns their features
// in order, as the tower would (Pipeline.Encode's Result.Items(0, len(items))): a server's
// cache and batcher, say. The items' Names identify them.
type ItemEncoder func(ctx context.Context, items []Item) (Features, error)

type itemFeatures struct {
	grid textjoin.Grid
	f    textjoin.Features
}

// NewSession starts an empty conversation.
func (a *Assistant) NewSession() *Session {
	return &Session{a: a, features: map[int]itemFeatures{}}
}

// NewSessionWith starts an empty conversation whose items enc encodes instead of the tower.
func (a *Assistant) NewSessionWith(enc ItemEncoder) *Session {
	s := a.NewSession()
	s.enc = enc
	return s
}

// Ask answers conv, as [Assistant.Ask] does, reusing what the session already holds: the
// longest prefix of the new prompt's ids that the cache holds is kept (moved back to the start
// of an item when it would cut one), and only the rest is prefilled. items are the whole
// conversation's items in order, as for Assistant.Ask. The logits agree with a fresh Ask's
// within float32 rounding (the rows are computed in other batches).
func (s *Session) Ask(ctx context.Context, conv *chat.Conversation, items []Item, gen generate.Config, emit func(string) error) (*Answer, error) {
	a := s.a
	start := time.Now()
	if err := gen.Validate(); err != nil {
		return nil, err
	}
	prompt, err := a.Text.Render(conv, chat.Options{AddGenerationPrompt: true})
	if err != nil {
		return nil, err
	}
	var imageGrids []textjoin.Grid
	var videoItems []textjoin.Video
	var imageIdx, videoIdx []int // index in items of the k-th image / video
	for i, it := range items {
		g := textjoin.Grid(it.Grid)
		if it.Video {
			videoItems = append(videoItems, textjoin.Video{Grid: g, Timestamps: it.Timestamps})
			videoIdx = append(videoIdx, i)
		} else {
			imageGrids = append(imageGrids, g)
			imageIdx = append(imageIdx, i)
		}
	}
	d, err := a.Text.Describe(prompt, imageGrids, videoItems)
	if err != nil {
		return nil, err
	}
	ids := d.IDs
	ans := &Answer{Prompt: prompt, PromptIDs: ids, ImageTokens: d.ImageTokens, VideoTokens: d.VideoTokens}
	budget := gen.Budget(len(ids))
	if limit := a.Decoder.Config().MaxPositionEmbeddings; len(ids)+budget > limit {
		return nil, fmt.Errorf("pipeline: the prompt's %d tokens and up to %d new ones exceed the model's context of %d", len(ids), budget, limit)
	}

	// What the cache can keep: the common prefix, at least one token short of the prompt (its
	// last row's logits are needed), not cutting an item.
	keep := 0
	if s.cache != nil && len(ids)+budget <= s.cache.Cap() {
		for keep < len(s.ids) && keep < len(ids)-1 && s.ids[keep] == ids[keep] {
			keep++
		}
		for _, sp := range d.Spans {
			if first := itemStart(d.Spans, sp); sp.Token < keep && keep < sp.Token+sp.Pads {
				keep = first
			}
		}
	}
	if keep == 0 || s.cache == nil || len(ids)+budget > s.cache.Cap() {
		if s.cache == nil || len(ids)+budget > s.cache.Cap() {
			// Room for this turn and as much again, so a chat does not reallocate each turn.
			if s.cache, err = a.Decoder.NewCache(min(2*(len(ids)+budget), a.Decoder.Config().MaxPositionEmbeddings)); err != nil {
				return nil, err
			}
		}
		keep = 0
	}
	if err := s.cache.Truncate(keep); err != nil {
		return nil, err
	}
	s.ids = s.ids[:keep]

	// The items whose pads are in the suffix, per kind, in order.
	t0 := time.Now()
	imageF, err := s.suffixFeatures(ctx, d.Spans, textjoin.KindImage, imageIdx, items, keep)
	if err != nil {
		return nil, err
	}
	videoF, err := s.suffixFeatures(ctx, d.Spans, textjoin.KindVideo, videoIdx, items, keep)
	if err != nil {
		return nil, err
	}
	suffix := ids[keep:]
	embeds, err := a.Decoder.Embed(suffix)
	if err != nil {
		return nil, err
	}
	place, err := textjoin.Scatter(embeds, suffix, imageF, videoF, a.Text.Tokens)
	if err != nil {
		return nil, err
	}
	ans.Encode = time.Since(t0)

	t0 = time.Now()
	ctx = watch(ctx, a.Decoder, len(ids), d.Spans)
	pos := textjoin.Positions{d.Positions[0][keep:], d.Positions[1][keep:], d.Positions[2][keep:]}
	logits, err := a.Decoder.Prefill(ctx, s.cache, text.Input{IDs: suffix, Embeds: &embeds, Positions: pos, Visual: place.Visual, Deepstack: place.Deepstack})
	if err != nil {
		s.reset()
		return nil, err
	}
	s.ids = append(s.ids, suffix...)
	ans.Prefill = time.Since(t0)

	t0 = time.Now()
	step := func(ctx context.Context, id int32) ([]float32, error) {
		ans.TokenTimes = append(ans.TokenTimes, time.Since(start)) // id was just chosen
		out, err := a.Decoder.Decode(ctx, s.cache, id, textjoin.DecodePosition(s.cache.Len(), d.RopeDelta))
		if err == nil {
			s.ids = append(s.ids, id)
		}
		return out, err
	}
	first := true
	res, err := generate.Run(ctx, gen, a.Text.Tokenizer, ids, logits.Data, step, func(t string) error {
		if first {
			ans.TimeToFirst, first = time.Since(start), false
		}
		return emit(t)
	})
	ans.Result, ans.Decode = res, time.Since(t0)
	if len(ans.TokenTimes) < len(res.IDs) { // the last id, which no step was run for
		ans.TokenTimes = append(ans.TokenTimes, time.Since(start))
	}
	if len(s.ids) != s.cache.Len() {
		s.reset() // a failed step: start afresh next turn
	}
	if err != nil {
		return ans, err
	}
	return ans, nil
}

// reset forgets the cached sequence (the features stay).
func (s *Session) reset() {
	s.ids = s.ids[:0]
	if s.cache != nil {
		s.cache.Reset()
	}
}

// itemStart is the first pad of the item sp belongs to (a video has one span per temporal
// group).
func itemStart(spans []textjoin.Span, sp textjoin.Span) int {
	first := sp.Token
	for _, o := range spans {
		if o.Kind == sp.Kind && o.Item == sp.Item && o.Token < first {
			first = o.Token
		}
	}
	return first
}

// suffixFeatures returns the features of the items of one kind whose pads lie at or after
// keep (whole items: keep never cuts one), encoding those the session does not hold; nil when
// there are none.
func (s *Session) suffixFeatures(ctx context.Context, spans []textjoin.Span, kind textjoin.Kind, idx []int, items []Item, keep int) (*textjoin.Features, error) {
	need := map[int]bool{} // item number within the kind
	for _, sp := range spans {
		if sp.Kind == kind && sp.Token >= keep {
			need[sp.Item] = true
		}
	}
	if len(need) == 0 {
		return nil, nil
	}
	var out *textjoin.Features
	var missing []int
	for k := range idx {
		if !need[k] {
			continue
		}
		if f, ok := s.features[idx[k]]; !ok || f.grid != textjoin.Grid(items[idx[k]].Grid) {
			missing = append(missing, idx[k])
		}
	}
	if len(missing) > 0 {
		var batch []Item
		for _, i := range missing {
			batch = append(batch, items[i])
		}
		var all Features
		if s.enc != nil {
			f, err := s.enc(ctx, batch)
			if err != nil {
				return nil, err
			}
			if len(f.Items) != len(batch) {
				return nil, fmt.Errorf("pipeline: the encoder returned %d items for %d", len(f.Items), len(batch))
			}
			all = f
		} else {
			res, err := s.a.encodeItems(ctx, batch)
			if err != nil {
				return nil, err
			}
			all = res.Items(0, len(batch))
		}
		for j, i := range missing {
			f := all.Item(j)
			tf := textjoin.Features{Pooler: textjoin.Matrix(f.Pooler)}
			for _, m := range f.Deepstack {
				tf.Deepstack = append(tf.Deepstack, textjoin.Matrix(m))
			}
			s.features[i] = itemFeatures{grid: textjoin.Grid(items[i].Grid), f: tf}
		}
	}
	for k := range idx {
		if !need[k] {
			continue
		}
		f := s.features[idx[k]].f
		if out == nil {
			out = &textjoin.Features{Deepstack: make([]textjoin.Matrix, len(f.Deepstack))}
		}
		appendRows(&out.Pooler, f.Pooler)
		for j := range f.Deepstack {
			appendRows(&out.Deepstack[j], f.Deepstack[j])
		}
	}
	return out, nil
}

// appendRows appends src's rows to dst.
func appendRows(dst *textjoin.Matrix, src textjoin.Matrix) {
	dst.Cols = src.Cols
	dst.Rows += src.Rows
	dst.Data = append(dst.Data, src.Data...)
}
