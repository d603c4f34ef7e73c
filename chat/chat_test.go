package chat

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoadTemplateCheckpoints(t *testing.T) {
	for _, tc := range []struct{ dir, file, same string }{
		{"../testdata/tokenizer/qwen3vl", "chat_template.json", "../testdata/chat/templates/qwen3-vl-instruct.jinja"},
		{"../testdata/tokenizer/qwen3.5", "chat_template.jinja", "../testdata/chat/templates/qwen3.5.jinja"},
	} {
		tmpl, err := LoadTemplate(tc.dir)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(tmpl.File) != tc.file || tmpl.Name() != tc.file {
			t.Errorf("%s: loaded %s (%s), want %s", tc.dir, tmpl.File, tmpl.Name(), tc.file)
		}
		if tmpl.Source != readFile(t, tc.same) {
			t.Errorf("%s: the template differs from %s", tc.dir, tc.same)
		}
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadTemplateOrder(t *testing.T) {
	all := map[string]string{
		"processor_config.json": `{"chat_template": "P"}`,
		"chat_template.json":    `{"chat_template": "J"}`,
		"chat_template.jinja":   "T",
		"tokenizer_config.json": `{"chat_template": "K"}`,
	}
	order := []string{"processor_config.json", "chat_template.json", "chat_template.jinja", "tokenizer_config.json"}
	want := []string{"P", "J", "T", "K"}
	for i := range order {
		files := map[string]string{}
		for _, name := range order[i:] {
			files[name] = all[name]
		}
		tmpl, err := LoadTemplate(writeFiles(t, files))
		if err != nil {
			t.Fatal(err)
		}
		if tmpl.Source != want[i] || filepath.Base(tmpl.File) != order[i] {
			t.Errorf("with %v: got %q from %s", order[i:], tmpl.Source, tmpl.File)
		}
	}
}

func TestLoadTemplateTokenizerList(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"tokenizer_config.json": `{"chat_template": [{"name": "tool_use", "template": "U"}, {"name": "default", "template": "D"}]}`,
	})
	tmpl, err := LoadTemplate(dir)
	if err != nil || tmpl.Source != "D" {
		t.Fatalf("got %v, %v; want the default template", tmpl, err)
	}
}

func TestLoadTemplateErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"none", map[string]string{"config.json": "{}"}, "no chat template"},
		{"tokenizer without one", map[string]string{"tokenizer_config.json": `{"eos_token": "x"}`}, "no chat template"},
		{"json without key", map[string]string{"chat_template.json": `{}`}, `no "chat_template" key`},
		{"json not a string", map[string]string{"chat_template.json": `{"chat_template": 3}`}, "not a string"},
		{"bad json", map[string]string{"chat_template.json": `{`}, "chat_template.json"},
		{"no default", map[string]string{"tokenizer_config.json": `{"chat_template": [{"name": "a", "template": "x"}]}`}, `named "default"`},
		{"bad template", map[string]string{"chat_template.jinja": "{{ x|wordwrap }}"}, `chat: chat_template.jinja:1: unsupported filter "wordwrap"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			_, err := LoadTemplate(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "chat: ") {
				t.Fatalf("error %v; want one containing %q", err, tc.want)
			}
			if tc.want == "no chat template" && !strings.Contains(err.Error(), dir) {
				t.Errorf("error %v does not name the folder", err)
			}
		})
	}
}

func TestParseTemplateErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"a\n\n{{ x|wordwrap }}", `chat: t.jinja:3: unsupported filter "wordwrap"`},
		{"{% include 'x' %}", `chat: t.jinja:1: unsupported tag "include"`},
		{"\n{% extends 'x' %}", `chat: t.jinja:2: unsupported tag "extends"`},
		{"{% call m() %}{% endcall %}", `chat: t.jinja:1: unsupported tag "call"`},
		{"{{ x is frobnicated }}", `chat: t.jinja:1: unsupported test "frobnicated"`},
		{"{% for x in y recursive %}{% endfor %}", `unsupported recursive for loop`},
		{"{% if x %}", `chat: t.jinja:1: Unexpected end of template`},
		{"{{ f(*args) }}", `unsupported * argument unpacking`},
	} {
		_, err := ParseTemplate("t.jinja", tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v; want %q", tc.src, err, tc.want)
		}
	}
}

func TestParseConversation(t *testing.T) {
	c, err := ParseConversation([]byte(`{"messages": [{"role": "user", "content": [{"type": "image"}, {"type": "image_url", "image_url": {"url": "u"}}, {"image": "x.png"}, {"type": "video"}, {"video": ["a", "b"]}, {"type": "video_url"}, {"type": "text", "text": "hi"}]}, {"role": "assistant", "content": null, "n": 1, "f": 1.0}], "tools": [{"type": "function"}], "add_vision_id": true}`))
	if err != nil {
		t.Fatal(err)
	}
	if img, vid := c.Counts(); img != 3 || vid != 2 {
		t.Errorf("Counts = %d, %d; want 3, 2", img, vid)
	}
	if n, _ := c.Messages[1].Get("n"); n != int64(1) {
		t.Errorf("n = %#v, want int64 1", n)
	}
	if f, _ := c.Messages[1].Get("f"); f != 1.0 {
		t.Errorf("f = %#v, want float64 1", f)
	}
	if c.Tools == nil || len(c.Tools.Items) != 1 {
		t.Errorf("tools = %v", c.Tools)
	}
	if v, ok := c.Vars.Get("add_vision_id"); !ok || v != true {
		t.Errorf("vars = %v", c.Vars)
	}
}

func TestParseConversationErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`[{"role": "user", "content": "a"}, {"content": "b"}]`, `chat: message 1: "role" must be a string`},
		{`[{"role": 3, "content": "b"}]`, `message 0: "role" must be a string`},
		{`[{"role": "user", "content": {"a": 1}}]`, `message 0: "content" must be a string, a list or null`},
		{`[{"role": "user", "content": 5}]`, `message 0: "content"`},
		{`["hi"]`, `message 0: not an object`},
		{`{"tools": []}`, `"messages"`},
		{`{"messages": {}}`, `"messages" must be a list`},
		{`{"messages": [], "tools": {"a": 1}}`, `"tools" must be a list`},
		{`{"messages": [], "tools": ["f"]}`, `tools[0] must be an object`},
		{`{"messages": [], "add_generation_prompt": true}`, `option of Render`},
		{`[1] [2]`, `trailing data`},
		{`[{"role": "user", "content": "a", "n": 99999999999999999999}]`, `out of the int64 range`},
		{`"x"`, `want a list of messages`},
		{`[`, `chat: conversation:`},
	} {
		_, err := ParseConversation([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want %q", tc.in, err, tc.want)
		}
	}
}

func mustTemplate(t *testing.T, src string) *Template {
	t.Helper()
	tmpl, err := ParseTemplate("t.jinja", src)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func mustConversation(t *testing.T, s string) *Conversation {
	t.Helper()
	c, err := ParseConversation([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRenderNormalisation(t *testing.T) {
	tmpl := mustTemplate(t, "{% for m in messages %}{{ m|tojson }}\n{% endfor %}{{ tools|tojson }} {{ documents }} {{ add_generation_prompt }} {{ x }} {{ y }}")
	c := mustConversation(t, `{"messages": [
		{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://a/b.png"}}, {"type": "image_url", "image_url": "raw"}, {"type": "text", "text": "hi"}], "name": null},
		{"role": "assistant", "content": "ok", "reasoning": "because"},
		{"role": "assistant", "thinking": "t", "content": "ok", "reasoning_content": "r"}
	], "x": 1}`)
	got, err := tmpl.Render(c, Options{AddGenerationPrompt: true, Vars: map[string]any{"y": []any{1, "a", nil}, "x": 2}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"role": "user", "content": [{"type": "image", "url": "http://a/b.png"}, {"type": "image", "url": "raw"}, {"type": "text", "text": "hi"}]}
{"thinking": "because", "role": "assistant", "content": "ok", "reasoning": "because", "reasoning_content": "because"}
{"thinking": "t", "role": "assistant", "content": "ok", "reasoning_content": "r"}
null None True 2 [1, 'a', None]`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// The conversation itself is untouched.
	if content, _ := c.Messages[0].Get("name"); content != nil {
		t.Errorf("message 0 changed")
	}
	if _, ok := c.Messages[0].Get("name"); !ok {
		t.Errorf("message 0 lost its null key")
	}
}

func TestRenderErrors(t *testing.T) {
	c := mustConversation(t, `[{"role": "user", "content": "hi"}]`)
	_, err := mustTemplate(t, "a\n{{ raise_exception('Bad ' ~ messages[0].role) }}").Render(c, Options{})
	var re *RenderError
	if !errors.As(err, &re) || re.Message != "Bad user" || re.Line != 2 || re.Template != "t.jinja" {
		t.Fatalf("error %#v; want a RenderError", err)
	}
	if err.Error() != "chat: t.jinja:2: Bad user" {
		t.Errorf("Error() = %q", err.Error())
	}
	_, err = mustTemplate(t, "\n\n{{ messages[0].x.y }}").Render(c, Options{})
	if err == nil || err.Error() != "chat: t.jinja:3: 'dict object' has no attribute 'x'" {
		t.Errorf("error %v", err)
	}
	if _, err := mustTemplate(t, "x").Render(&Conversation{}, Options{}); err == nil {
		t.Error("no messages: no error")
	}
	if _, err := mustTemplate(t, "x").Render(c, Options{Vars: map[string]any{"messages": 1}}); err == nil {
		t.Error("Vars[messages]: no error")
	}
	if _, err := mustTemplate(t, "x").Render(c, Options{Vars: map[string]any{"f": func() {}}}); err == nil {
		t.Error("Vars of a func: no error")
	}
}

func TestRenderStrftime(t *testing.T) {
	c := mustConversation(t, `[{"role": "user", "content": "hi"}]`)
	now := time.Date(2026, 3, 4, 15, 6, 7, 0, time.UTC)
	got, err := mustTemplate(t, "{{ strftime_now('%Y-%m-%d %H:%M:%S %d %B %Y %a %b %j %I%p') }}").Render(c, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if want := "2026-03-04 15:06:07 04 March 2026 Wed Mar 063 03PM"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSpecialTokens(t *testing.T) {
	tmpl, err := LoadTemplate("../testdata/tokenizer/qwen3vl")
	if err != nil {
		t.Fatal(err)
	}
	if len(tmpl.SpecialTokens) != 2 || tmpl.SpecialTokens["eos_token"] != "<|im_end|>" || tmpl.SpecialTokens["pad_token"] != "<|endoftext|>" {
		t.Fatalf("SpecialTokens = %v; want eos and pad (the processor's special_tokens_map)", tmpl.SpecialTokens)
	}
	tmpl2 := mustTemplate(t, "{{ eos_token }}|{{ pad_token }}|{{ bos_token is defined }}")
	tmpl2.SpecialTokens = tmpl.SpecialTokens
	got, err := tmpl2.Render(mustConversation(t, `[{"role": "user", "content": "x"}]`), Options{Vars: map[string]any{"pad_token": "P"}})
	if err != nil || got != "<|im_end|>|P|False" {
		t.Fatalf("got %q, %v", got, err)
	}
	dir := writeFiles(t, map[string]string{"chat_template.jinja": "x", "tokenizer_config.json": `{"bos_token": {"content": "<s>", "lstrip": false}, "unk_token": null, "eos_token": "</s>"}`})
	tmpl3, err := LoadTemplate(dir)
	if err != nil || len(tmpl3.SpecialTokens) != 2 || tmpl3.SpecialTokens["bos_token"] != "<s>" || tmpl3.SpecialTokens["eos_token"] != "</s>" {
		t.Fatalf("got %v, %v", tmpl3.SpecialTokens, err)
	}
}
