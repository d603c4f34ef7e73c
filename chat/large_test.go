package chat

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRenderLarge renders 2,000 messages of 4 KiB with each template: no
// limit trips on an ordinary long conversation, and each message's text is
// in the output once.
func TestRenderLarge(t *testing.T) {
	var msgs []map[string]any
	text := strings.Repeat("word ", 800)
	for i := 0; i < 2000; i++ {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		msgs = append(msgs, map[string]any{"role": role, "content": []any{map[string]any{"type": "text", "text": text}}})
	}
	data, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	conv, err := ParseConversation(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"qwen3-vl-instruct", "qwen3-vl-thinking", "qwen3.5", "qwen3.6"} {
		tmpl := mustTemplate(t, readFile(t, "../testdata/chat/templates/"+name+".jinja"))
		out, err := tmpl.Render(conv, Options{AddGenerationPrompt: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := strings.Count(out, strings.TrimSpace(text)); n != 2000 {
			t.Errorf("%s: the text appears %d times, want 2000", name, n)
		}
	}
}
