package chat

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The goldens of testdata/chat (tools/reference/chat_goldens.py): each case
// of cases.json rendered by the pinned processor into golden.jsonl. A case
// with "text" must render to the same bytes; a case with a TemplateError
// must fail with a *RenderError carrying the same message; any other
// reference error must be an error here too.

type goldenCase struct {
	Name         string          `json:"name"`
	Template     string          `json:"template"`
	Conversation json.RawMessage `json:"conversation"`
	Options      map[string]any  `json:"options"`
}

type goldenOut struct {
	Name      string  `json:"name"`
	Text      *string `json:"text"`
	Error     *string `json:"error"`
	ErrorType string  `json:"error_type"`
}

func goldenDir() string {
	if d := os.Getenv("CHAT_GOLDEN_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "testdata", "chat")
}

func loadGoldens(t *testing.T) ([]goldenCase, map[string]goldenOut) {
	dir := goldenDir()
	data, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("testdata/chat/cases.json not present (tools/reference/chat_goldens.py makes it)")
	}
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "golden.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	outs := map[string]goldenOut{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var o goldenOut
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatal(err)
		}
		outs[o.Name] = o
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 || len(outs) != len(cases) {
		t.Fatalf("%d cases, %d goldens", len(cases), len(outs))
	}
	return cases, outs
}

func TestGolden(t *testing.T) {
	cases, outs := loadGoldens(t)
	templates := map[string]*Template{}
	identical := 0
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			want := outs[c.Name]
			tmpl := templates[c.Template]
			if tmpl == nil {
				src, err := os.ReadFile(filepath.Join(goldenDir(), "templates", c.Template+".jinja"))
				if err != nil {
					t.Fatal(err)
				}
				if tmpl, err = ParseTemplate(c.Template+".jinja", string(src)); err != nil {
					t.Fatal(err)
				}
				templates[c.Template] = tmpl
			}
			var o Options
			o.Vars = map[string]any{}
			for k, v := range c.Options {
				if k == "add_generation_prompt" {
					o.AddGenerationPrompt = v.(bool)
				} else {
					o.Vars[k] = v
				}
			}
			conv, err := ParseConversation(c.Conversation)
			if err != nil {
				if want.Error == nil {
					t.Fatalf("ParseConversation: %v; the reference rendered", err)
				}
				// Refused before rendering (content that is neither a
				// string, a list nor null); the reference raised too.
				t.Logf("refused by ParseConversation (%v); reference: %s: %s", err, want.ErrorType, *want.Error)
				identical++
				return
			}
			got, err := tmpl.Render(conv, o)
			switch {
			case want.Text != nil:
				if err != nil {
					t.Fatalf("error %v; want text %q", err, *want.Text)
				}
				if got != *want.Text {
					t.Fatalf("text differs\n got: %q\nwant: %q", got, *want.Text)
				}
			case want.ErrorType == "TemplateError":
				var re *RenderError
				if !errors.As(err, &re) {
					t.Fatalf("got %q, %v; want raise_exception(%q)", got, err, *want.Error)
				}
				if re.Message != *want.Error {
					t.Fatalf("message %q; want %q", re.Message, *want.Error)
				}
			default:
				if err == nil {
					t.Fatalf("rendered %q; the reference raised %s: %s", got, want.ErrorType, *want.Error)
				}
				if !strings.Contains(err.Error(), *want.Error) {
					t.Logf("error %v; reference %s: %s", err, want.ErrorType, *want.Error)
				}
			}
			identical++
		})
	}
	t.Logf("%d cases, %d identical", len(cases), identical)
}
