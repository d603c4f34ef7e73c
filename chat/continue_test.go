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

// TestContinueGolden runs testdata/chat/continue.jsonl
// (tools/reference/chat_continue_goldens.py): continue_final_message as the
// pinned processor does it, texts identical, errors where it raises.
func TestContinueGolden(t *testing.T) {
	runConversationFile(t, filepath.Join("..", "testdata", "chat", "continue.jsonl"), 10)
}

// TestConversationFile runs CHAT_CONVERSATIONS=file (same format as
// continue.jsonl: "name", "template", "conversation", "options", "text" or
// "error"/"error_type") when set.
func TestConversationFile(t *testing.T) {
	path := os.Getenv("CHAT_CONVERSATIONS")
	if path == "" {
		t.Skip("CHAT_CONVERSATIONS not set")
	}
	runConversationFile(t, path, 1)
}

func runConversationFile(t *testing.T, path string, atLeast int) {
	f, err := os.Open(path)
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
			ErrorType    string          `json:"error_type"`
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
			if c.ErrorType == "TemplateError" {
				var re *RenderError
				if !errors.As(err, &re) || re.Message != *c.Error {
					t.Fatalf("error %v; want raise_exception(%q)", err, *c.Error)
				}
			}
			if !strings.Contains(*c.Error, strings.TrimPrefix(err.Error(), "chat: ")) && !strings.Contains(err.Error(), strings.TrimSuffix(*c.Error, "!")) {
				t.Logf("error %q; reference %q", err, *c.Error)
			}
		})
	}
	if n < atLeast {
		t.Fatalf("%d cases", n)
	}
}

// TestRandomConversations runs testdata/chat/random_conversations.jsonl
// (tools/reference/chat_random_goldens.py): 400 random conversations over
// the four templates, rendered by the pinned processor.
func TestRandomConversations(t *testing.T) {
	runConversationFile(t, filepath.Join("..", "testdata", "chat", "random_conversations.jsonl"), 400)
}
