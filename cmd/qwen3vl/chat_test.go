package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// A chat session over the tiny full model: each turn answers the whole conversation, items
// stay attached to the turn that named them, a failed turn and a bad command change nothing.
func TestChatSession(t *testing.T) {
	ctx := context.Background()
	spec, err := pipeline.ParseSpec("random:tiny@7")
	if err != nil {
		t.Fatal(err)
	}
	a, err := pipeline.OpenAssistant(ctx, spec, pipeline.AssistantOptions{Tokenizer: "../../testdata/tokenizer/qwen3vl"})
	if err != nil {
		t.Fatal(err)
	}
	gen := a.Generation
	gen.MaxNewTokens = 3
	type call struct {
		messages, items, imageTokens int
		prompt                       string
	}
	var calls []call
	fail := false
	ask := func(ctx context.Context, conv *chat.Conversation, items []pipeline.Item, emit func(string) error) (*pipeline.Answer, error) {
		if fail {
			return nil, errors.New("no answer this time")
		}
		ans, err := a.Ask(ctx, conv, items, gen, emit)
		if err == nil {
			calls = append(calls, call{len(conv.Messages), len(items), ans.ImageTokens, ans.Prompt})
		}
		return ans, err
	}
	var stdout, stderr bytes.Buffer
	s := &chatSession{a: a, system: "Be brief.", stdout: &stdout, stderr: &stderr}
	in := strings.Join([]string{
		"/image ../../testdata/imageproc/inputs/grad_400x300.png",
		"What is this?",
		"/image nope.png",
		"/bogus",
		"And now?",
	}, "\n")
	if err := s.run(ctx, strings.NewReader(in), false, ask); err != nil {
		t.Fatal(err)
	}
	fail = true
	if err := s.run(ctx, strings.NewReader("This one fails.\n"), false, ask); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 {
		t.Fatalf("%d answers, want 2; stderr:\n%s", len(calls), stderr.String())
	}
	// Turn 1: system + user with the image; turn 2: system, user, assistant, user, and the
	// same one image (the failed /image added nothing).
	if c := calls[0]; c.messages != 2 || c.items != 1 || c.imageTokens != 108 {
		t.Errorf("turn 1: %+v", c)
	}
	if c := calls[1]; c.messages != 4 || c.items != 1 || c.imageTokens != 108 || !strings.HasPrefix(c.prompt, calls[0].prompt) {
		t.Errorf("turn 2: %+v (must extend turn 1's prompt)", c)
	}
	if len(s.msgs) != 4 {
		t.Errorf("after the failed turn the conversation has %d messages, want 4", len(s.msgs))
	}
	for _, want := range []string{"nope.png", `unknown command "/bogus"`, "no answer this time"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}
