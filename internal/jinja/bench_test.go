package jinja

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRenderQwen35 renders the Qwen3.5 template over a five-message
// conversation with tools, images and a tool call.
func BenchmarkRenderQwen35(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "chat", "templates", "qwen3.5.jinja"))
	if err != nil {
		b.Fatal(err)
	}
	tmpl, err := Parse("qwen3.5.jinja", string(src))
	if err != nil {
		b.Fatal(err)
	}
	vars, err := DecodeJSON([]byte(fuzzConversation))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(vars.(*Dict), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
