package pipeline

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/text"
)

// A session's second turn prefills only what the first did not hold, encodes no item twice,
// and answers as a fresh Ask does.
func TestSessionReusesPrefix(t *testing.T) {
	ctx := context.Background()
	spec, err := ParseSpec("random:tiny@7")
	if err != nil {
		t.Fatal(err)
	}
	a, err := OpenAssistant(ctx, spec, AssistantOptions{Tokenizer: "../testdata/tokenizer/qwen3vl"})
	if err != nil {
		t.Fatal(err)
	}
	gen := a.Generation
	gen.MaxNewTokens = 6
	// Sampling with penalties, so that the answer is not one repeated token.
	gen.DoSample, gen.Temperature, gen.RepetitionPenalty, gen.Seed = true, 2, 1.3, 11
	img, err := a.Prepare(ctx, Input{Path: "../testdata/imageproc/inputs/grad_400x300.png"})
	if err != nil {
		t.Fatal(err)
	}
	img2, err := a.Prepare(ctx, Input{Path: "../testdata/imageproc/inputs/photo_250x190.png"})
	if err != nil {
		t.Fatal(err)
	}
	conv := func(t *testing.T, msgs ...map[string]any) *chat.Conversation {
		b, _ := json.Marshal(msgs)
		c, err := chat.ParseConversation(b)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	user1 := map[string]any{"role": "user", "content": []map[string]any{{"type": "image"}, {"type": "text", "text": "What is this?"}}}
	s := a.NewSession()
	var prefilled []int
	traced := text.WithTrace(ctx, func(tr text.Trace) {
		if tr.Name == "embed" {
			prefilled = append(prefilled, tr.Matrix.Rows)
		}
	})
	nop := func(string) error { return nil }
	ans1, err := s.Ask(traced, conv(t, user1), []Item{img}, gen, nop)
	if err != nil {
		t.Fatal(err)
	}
	user2 := map[string]any{"role": "user", "content": []map[string]any{{"type": "image"}, {"type": "text", "text": "And this one?"}}}
	turn2 := conv(t, user1, map[string]any{"role": "assistant", "content": ans1.Text}, user2)
	prefilled = nil
	ans2, err := s.Ask(traced, turn2, []Item{img, img2}, gen, nop)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := a.Ask(ctx, turn2, []Item{img, img2}, gen, nop)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ans2.PromptIDs, fresh.PromptIDs) || !slices.Equal(ans2.IDs, fresh.IDs) {
		t.Errorf("session turn 2 generated %v, a fresh Ask %v", ans2.IDs, fresh.IDs)
	}
	if len(prefilled) == 0 {
		t.Fatal("no prefill traced")
	}
	if prefilled[0] >= len(ans2.PromptIDs)-len(ans1.PromptIDs)+len(ans1.IDs) {
		t.Errorf("turn 2 prefilled %v rows of a %d-token prompt; the first turn's %d prompt tokens and its answer should have been kept", prefilled, len(ans2.PromptIDs), len(ans1.PromptIDs))
	}
	if len(s.features) != 2 {
		t.Errorf("%d items encoded, want 2", len(s.features))
	}
	t.Logf("turn 1: %d prompt tokens, answer %q; turn 2: %d prompt tokens, prefilled %d", len(ans1.PromptIDs), ans1.Text, len(ans2.PromptIDs), prefilled[0])
}

// TokenTimes has one entry per generated id, in order, the first after the encode and the
// prefill; with no eos ids and no stop strings, greedy generation runs the whole budget.
func TestAskTokenTimes(t *testing.T) {
	ctx := context.Background()
	spec, err := ParseSpec("random:tiny@7")
	if err != nil {
		t.Fatal(err)
	}
	a, err := OpenAssistant(ctx, spec, AssistantOptions{Tokenizer: "../testdata/tokenizer/qwen3vl"})
	if err != nil {
		t.Fatal(err)
	}
	img, err := a.Prepare(ctx, Input{Path: "../testdata/imageproc/inputs/grad_400x300.png"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal([]map[string]any{{"role": "user", "content": []map[string]any{{"type": "image"}, {"type": "text", "text": "Describe this image."}}}})
	conv, err := chat.ParseConversation(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 5} {
		gen := a.Generation
		gen.MaxNewTokens, gen.EOS, gen.StopStrings, gen.DoSample = n, nil, nil, false
		ans, err := a.Ask(ctx, conv, []Item{img}, gen, func(string) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if len(ans.IDs) != n || len(ans.TokenTimes) != n {
			t.Fatalf("budget %d: %d ids, %d token times", n, len(ans.IDs), len(ans.TokenTimes))
		}
		if ans.TokenTimes[0] < ans.Encode+ans.Prefill {
			t.Errorf("budget %d: first token at %v, before the encode (%v) and prefill (%v) ended", n, ans.TokenTimes[0], ans.Encode, ans.Prefill)
		}
		for i := 1; i < n; i++ {
			if ans.TokenTimes[i] < ans.TokenTimes[i-1] {
				t.Errorf("budget %d: token times %v not in order", n, ans.TokenTimes)
			}
		}
	}
}
