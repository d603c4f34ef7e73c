package chat

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestContinueGolden runs testdata/chat/continue.jsonl
// (tools/reference/chat_continue_goldens.py): continue_final_message as the
// pinned processor does it, texts identical, errors where it raises.
func TestContinueGolden(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "testdata", "chat", "continue.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n := 0
	for sc.Scan() {
		var c struct {
			Name         string          `json:"name"`
			Template     string          `json:"template"`
			Conversation json.RawMessage `json:"conversation"`
			Options      map[string]any  `json:"options"`
			Text         *string         `json:"text"`
			Error        *string         `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			tmpl := mustTemplate(t, readFile(t, filepath.Join("..", "testdata", "chat", "templates", c.Template+".jinja")))
			conv := mustConversation(t, string(c.Conversation))
			o := Options{Vars: map[string]any{}}
			for k, v := range c.Options {
				switch k {
				case "continue_final_message":
					o.ContinueFinalMessage = true
					if s, ok := v.(string); ok {
						o.ContinueField = s
					}
				case "add_generation_prompt":
					o.AddGenerationPrompt = v.(bool)
				default:
					o.Vars[k] = v
				}
			}
			got, err := tmpl.Render(conv, o)
			if c.Text != nil {
				if err != nil || got != *c.Text {
					t.Fatalf("got %q, %v\nwant %q", got, err, *c.Text)
				}
				return
			}
			if err == nil {
				t.Fatalf("rendered %q; the reference raised %s", got, *c.Error)
			}
			if !strings.Contains(*c.Error, strings.TrimPrefix(err.Error(), "chat: ")) && !strings.Contains(err.Error(), strings.TrimSuffix(*c.Error, "!")) {
				t.Logf("error %q; reference %q", err, *c.Error)
			}
		})
	}
	if n < 10 {
		t.Fatalf("%d cases", n)
	}
}
