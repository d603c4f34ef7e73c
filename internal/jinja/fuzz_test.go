package jinja

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func seedTemplates(f *testing.F) []string {
	var out []string
	paths, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "chat", "templates", "*.jinja"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, string(b))
	}
	if len(out) < 4 {
		f.Fatalf("found %d seed templates", len(out))
	}
	if fh, err := os.Open(filepath.Join("..", "..", "testdata", "chat", "jinja.jsonl")); err == nil {
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var c struct{ Template string }
			if json.Unmarshal(sc.Bytes(), &c) == nil {
				out = append(out, c.Template)
			}
		}
	}
	return out
}

const fuzzConversation = `{"messages": [
 {"role": "system", "content": "sys"},
 {"role": "user", "content": [{"type": "image"}, {"type": "video"}, {"type": "text", "text": "hi"}]},
 {"role": "assistant", "content": "<think>\nr\n</think>\n\nok", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1, "b": [1, 2]}}}]},
 {"role": "tool", "content": "out"},
 {"role": "user", "content": "again"}],
 "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
 "add_generation_prompt": true, "add_vision_id": true, "enable_thinking": false}`

func checkNoInternal(t *testing.T, err error) {
	if err != nil && strings.Contains(err.Error(), "internal error") {
		t.Fatal(err)
	}
}

// FuzzParse parses arbitrary sources: errors are fine, panics (turned into
// "internal error" by Parse's guard) are not; what parses is rendered.
func FuzzParse(f *testing.F) {
	for _, s := range seedTemplates(f) {
		f.Add(s)
	}
	vars, err := DecodeJSON([]byte(fuzzConversation))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := Parse("fuzz.jinja", src)
		checkNoInternal(t, err)
		if err != nil {
			return
		}
		_, err = tmpl.Render(vars.(*Dict), Options{Now: time.Unix(0, 0), Limits: Limits{MaxIterations: 10000, MaxOutput: 1 << 20, MaxWork: 64 << 20}})
		checkNoInternal(t, err)
	})
}

// FuzzRender renders the seed templates over arbitrary JSON variables.
func FuzzRender(f *testing.F) {
	templates := seedTemplates(f)[:4]
	var parsed []*Template
	for i, s := range templates {
		tmpl, err := Parse("seed.jinja", s)
		if err != nil {
			f.Fatal(i, err)
		}
		parsed = append(parsed, tmpl)
	}
	for i := range parsed {
		f.Add(uint8(i), []byte(fuzzConversation))
		f.Add(uint8(i), []byte(`{"messages": [{"role": "user", "content": {"a": 1}}]}`))
		f.Add(uint8(i), []byte(`{"messages": [], "tools": {"x": 1}}`))
		f.Add(uint8(i), []byte(`{"messages": [{"role": "tool", "content": [1, "a", null]}], "add_vision_id": [1]}`))
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		v, err := DecodeJSON(data)
		if err != nil {
			return
		}
		d, ok := v.(*Dict)
		if !ok {
			return
		}
		_, err = parsed[int(which)%len(parsed)].Render(d, Options{Limits: Limits{MaxIterations: 100000, MaxWork: 64 << 20}})
		checkNoInternal(t, err)
	})
}
