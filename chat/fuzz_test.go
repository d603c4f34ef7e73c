package chat

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseConversation parses arbitrary JSON as a conversation and renders
// what parses with each released template: errors are fine, panics (which
// the engine turns into "internal error") are not.
func FuzzParseConversation(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "chat", "templates", "*.jinja"))
	var templates []*Template
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		tmpl, err := ParseTemplate(filepath.Base(p), string(b))
		if err != nil {
			f.Fatal(err)
		}
		templates = append(templates, tmpl)
	}
	if len(templates) != 4 {
		f.Fatalf("%d templates", len(templates))
	}
	for _, s := range []string{
		`[{"role": "user", "content": "hi"}]`,
		`{"messages": [{"role": "system", "content": [{"type": "text", "text": "s"}]}, {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "u"}}, {"type": "video"}, "text"]}], "tools": [{"name": "f"}], "add_vision_id": true}`,
		`[{"role": "user", "content": "q"}, {"role": "assistant", "content": null, "reasoning": "r", "tool_calls": [{"function": {"name": "f", "arguments": {"a": [1, 2.5, null]}}}]}, {"role": "tool", "content": "x"}]`,
		`[]`, `{}`, `[{"role": "user"}]`, `[{"role": "tool", "content": [1]}]`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, gen bool) {
		c, err := ParseConversation(data)
		if err != nil {
			return
		}
		c.Counts()
		for _, tmpl := range templates {
			_, err := tmpl.Render(c, Options{AddGenerationPrompt: gen})
			if err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			_, err = tmpl.Render(c, Options{ContinueFinalMessage: true})
			if err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
		}
	})
}
