package server

import (
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/chat"
)

func TestStopCutter(t *testing.T) {
	for _, c := range []struct {
		name     string
		stops    []string
		pieces   []string
		released []string // after each piece, then the flush
	}{
		{"none", nil, []string{"ab", "cd"}, []string{"ab", "cd", ""}},
		{"cut inside a piece", []string{"o w"}, []string{"He", "llo wo", "rld"}, []string{"He", "ll", "", ""}},
		{"held then released", []string{"xyz"}, []string{"ab x", "y", "q"}, []string{"ab ", "", "xyq", ""}},
		{"held to the end", []string{"xyz"}, []string{"ab x", "y"}, []string{"ab ", "", "xy"}},
		{"across pieces", []string{"xyz"}, []string{"ab x", "yz tail"}, []string{"ab ", "", ""}},
		{"earliest of two", []string{"cd", "b"}, []string{"abcd"}, []string{"a", ""}},
		{"multibyte", []string{"恒恒"}, []string{"ft恒", "恒god"}, []string{"ft", "", ""}},
		{"at the start", []string{"\n"}, []string{"\nab"}, []string{"", ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cut := &stopCutter{stops: c.stops}
			var got []string
			for _, p := range c.pieces {
				got = append(got, cut.add(p))
			}
			got = append(got, cut.flush())
			if strings.Join(got, "|") != strings.Join(c.released, "|") {
				t.Errorf("released %q, want %q", got, c.released)
			}
			if all, want := strings.Join(got, ""), cutAtStop(strings.Join(c.pieces, ""), c.stops); all != want {
				t.Errorf("stream %q, whole %q", all, want)
			}
		})
	}
}

// FuzzParseChat feeds arbitrary bodies to the chat request parser and the chat template:
// they never panic, and every refusal is a 4xx (a 5xx would be a bug).
func FuzzParseChat(f *testing.F) {
	f.Add([]byte(`{"messages": [{"role": "user", "content": "hi"}], "stop": ["a", "b"], "n": 1}`))
	f.Add([]byte(`{"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}]}`))
	f.Add([]byte(`{"messages": [{"role": "assistant", "content": null}, {"role": "developer", "content": []}], "temperature": 1e400}`))
	f.Add([]byte(`{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:;base64,"}}]}], "max_tokens": -1}`))
	f.Add([]byte(`{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://img.example/a.png"}}, {"type": "image_url", "image_url": {"url": "https://u@img.example/../a"}}]}]}`))
	a := tinyAssistant(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		in, e := parseChat(body, 4, fuzzAllow)
		if e != nil {
			if e.status < 400 || e.status >= 500 || e.msg == "" {
				t.Fatalf("%q: status %d %q", body, e.status, e.msg)
			}
			return
		}
		a.Text.Render(in.conv, chat.Options{AddGenerationPrompt: true})
	})
}

// fuzzAllow is the allow-list FuzzParseChat parses with.
var fuzzAllow = allowList{mustPrefix("https://img.example/")}

func mustPrefix(s string) urlPrefix {
	p, err := parsePrefix(s)
	if err != nil {
		panic(err)
	}
	return p
}
