package generate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

const modelVocab = 151936 // Qwen3-VL's lm_head rows (past the tokenizer's ids)

// scripted is a fake model that makes ids[i] the argmax of its i-th row.
type scripted struct {
	ids  []int32
	pos  int
	row  []float32
	fail func(pos int) error
}

func newScripted(ids []int32) *scripted {
	return &scripted{ids: ids, row: make([]float32, modelVocab)}
}

func (s *scripted) logits() []float32 {
	clear(s.row)
	for i := 0; i < 100; i++ { // some spread so that sampling has choices
		s.row[i*1000] = 1
	}
	if s.pos < len(s.ids) {
		s.row[s.ids[s.pos]] = 10
	}
	return s.row
}

func (s *scripted) step(ctx context.Context, id int32) ([]float32, error) {
	if s.ids[s.pos] != id {
		return nil, errors.New("off script")
	}
	s.pos++
	if s.fail != nil {
		if err := s.fail(s.pos); err != nil {
			return nil, err
		}
	}
	return s.logits(), nil
}

func streamIDs(t *testing.T) []int32 {
	tok := qwenTokenizer(t)
	sp := tok.Specials()
	enc := func(s string) []int32 {
		ids, err := tok.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	var ids []int32
	ids = append(ids, enc("Hé, 你好🎉! Party 🎉! ")...)
	ids = append(ids, sp.VisionStart)
	ids = append(ids, enc("世界🎉🎉 naïve")...)
	ids = append(ids, 151700) // an id of the padded vocabulary the tokenizer does not know
	ids = append(ids, enc(" end")...)
	return append(ids, sp.IMEnd)
}

func greedyConfig(t *testing.T) Config {
	cfg := DefaultConfig()
	cfg.MaxNewTokens = 200
	cfg.EOS = qwenTokenizer(t).Specials().EOS
	return cfg
}

// TestRunStreaming: the streamed pieces are whole characters and concatenate to
// Decode(ids, skipSpecial=true); multi-byte characters split across ids and special
// tokens are in the sequence.
func TestRunStreaming(t *testing.T) {
	tok := qwenTokenizer(t)
	ids := streamIDs(t)
	split := 0
	for _, id := range ids {
		if s, ok := tok.Piece(id); ok && !tok.Special(id) {
			if b := appendIDBytes(nil, tok, id); !utf8.Valid(b) {
				split++
			}
			_ = s
		}
	}
	if split < 2 {
		t.Fatalf("the sequence has %d ids with partial characters; the test needs some", split)
	}
	m := newScripted(ids)
	var pieces []string
	res, err := Run(context.Background(), greedyConfig(t), tok, []int32{1, 2, 3}, m.logits(), m.step, func(s string) error {
		pieces = append(pieces, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var known []int32
	for _, id := range ids {
		if _, ok := tok.Piece(id); ok {
			known = append(known, id)
		}
	}
	want, err := tok.Decode(known, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pieces {
		if p == "" || !utf8.ValidString(p) || strings.ContainsRune(p, utf8.RuneError) {
			t.Errorf("piece %q is not whole characters", p)
		}
	}
	if got := strings.Join(pieces, ""); got != want || res.Text != want {
		t.Errorf("streamed %q, text %q, want %q", got, res.Text, want)
	}
	if !slices.Equal(res.IDs, ids) || res.Reason != ReasonEOS || res.GeneratedTokens != len(ids) || res.PromptTokens != 3 {
		t.Errorf("result %+v, want ids %v", res, ids)
	}
}

func TestRunStops(t *testing.T) {
	tok := qwenTokenizer(t)
	ids := streamIDs(t)
	ctx := context.Background()
	run := func(cfg Config, m *scripted) (Result, string, error) {
		var b strings.Builder
		res, err := Run(ctx, cfg, tok, nil, m.logits(), m.step, func(s string) error {
			b.WriteString(s)
			return nil
		})
		return res, b.String(), err
	}
	t.Run("length", func(t *testing.T) {
		cfg := greedyConfig(t)
		cfg.MaxNewTokens = 10 // inside the second 🎉: the text ends in U+FFFD, as HF's decode
		res, streamed, err := run(cfg, newScripted(ids))
		if err != nil {
			t.Fatal(err)
		}
		if res.Reason != ReasonLength || !slices.Equal(res.IDs, ids[:10]) || streamed != res.Text || !strings.HasSuffix(res.Text, "Party \uFFFD") {
			t.Errorf("%+v, streamed %q", res, streamed)
		}
	})
	t.Run("stop string", func(t *testing.T) {
		cfg := greedyConfig(t)
		cfg.StopStrings = []string{"nope", "界🎉"}
		res, streamed, err := run(cfg, newScripted(ids))
		if err != nil {
			t.Fatal(err)
		}
		if res.Reason != ReasonStop || res.StopString != "界🎉" || !strings.HasSuffix(res.Text, "界🎉") || streamed != res.Text {
			t.Errorf("%+v, streamed %q", res, streamed)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		m := newScripted(ids)
		m.fail = func(pos int) error {
			if pos == 3 {
				cancel()
			}
			return nil
		}
		res, err := Run(cctx, greedyConfig(t), tok, nil, m.logits(), m.step, nil)
		if !errors.Is(err, context.Canceled) || res.Reason != ReasonCancelled || res.GeneratedTokens != 3 {
			t.Errorf("%+v, %v", res, err)
		}
	})
	t.Run("step error", func(t *testing.T) {
		m := newScripted(ids)
		boom := errors.New("boom")
		m.fail = func(pos int) error {
			if pos == 2 {
				return boom
			}
			return nil
		}
		if _, err := Run(ctx, greedyConfig(t), tok, nil, m.logits(), m.step, nil); !errors.Is(err, boom) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("emit error", func(t *testing.T) {
		m := newScripted(ids)
		boom := errors.New("client gone")
		if _, err := Run(ctx, greedyConfig(t), tok, nil, m.logits(), m.step, func(string) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("row length", func(t *testing.T) {
		m := newScripted(ids)
		step := func(ctx context.Context, id int32) ([]float32, error) {
			r, err := m.step(ctx, id)
			return r[:10], err
		}
		if _, err := Run(ctx, greedyConfig(t), tok, nil, m.logits(), step, nil); err == nil {
			t.Error("no error for a short row")
		}
	})
	t.Run("bad config", func(t *testing.T) {
		cfg := greedyConfig(t)
		cfg.TopP = 2
		if _, err := Run(ctx, cfg, tok, nil, newScripted(ids).logits(), nil, nil); err == nil {
			t.Error("no error for top_p 2")
		}
	})
	t.Run("sampling top_k 1", func(t *testing.T) {
		cfg := greedyConfig(t)
		cfg.DoSample, cfg.TopK, cfg.Temperature, cfg.Seed = true, 1, 0.7, 3
		res, _, err := run(cfg, newScripted(ids))
		if err != nil || !slices.Equal(res.IDs, ids) {
			t.Errorf("%v %v", res.IDs, err)
		}
	})
}
