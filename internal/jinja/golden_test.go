package jinja

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// refused are constructs jinja2 runs that this engine refuses on purpose
// (each must fail with an "unsupported" error).
var refused = map[string]bool{
	"syntax_call_block": true, // {% call %} blocks
}

type jinjaCase struct {
	Name      string          `json:"name"`
	Template  string          `json:"template"`
	Vars      json.RawMessage `json:"vars"`
	Output    *string         `json:"output"`
	Error     *string         `json:"error"`
	ErrorType string          `json:"error_type"`
}

// TestJinjaGolden runs testdata/chat/jinja.jsonl (tools/reference/
// jinja_goldens.py: the real jinja2 in transformers' environment): each
// output must be identical, each reference error an error here.
// JINJA_GOLDEN=file runs another file of the same format instead.
func TestJinjaGolden(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "chat", "jinja.jsonl")
	if p := os.Getenv("JINJA_GOLDEN"); p != "" {
		path = p // another file of the same format
	}
	runGoldenFile(t, path, 100)
}

// TestJinjaRandomGolden runs testdata/chat/jinja_random.jsonl
// (tools/reference/jinja_random_goldens.py): random expressions rendered
// by jinja2, the same checks.
func TestJinjaRandomGolden(t *testing.T) {
	runGoldenFile(t, filepath.Join("..", "..", "testdata", "chat", "jinja_random.jsonl"), 2000)
}

func runGoldenFile(t *testing.T, path string, atLeast int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n, same := 0, 0
	for sc.Scan() {
		var c jinjaCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			vars, err := DecodeJSON(c.Vars)
			if err != nil {
				t.Fatal(err)
			}
			tmpl, err := Parse(c.Name+".jinja", c.Template)
			var got string
			if err == nil {
				got, err = tmpl.Render(vars.(*Dict), Options{})
			}
			switch {
			case refused[c.Name]:
				if err == nil || !strings.Contains(err.Error(), "unsupported") {
					t.Fatalf("got %q, %v; want an unsupported error", got, err)
				}
			case c.Output != nil:
				if err != nil {
					t.Fatalf("error %v; want %q", err, *c.Output)
				}
				if got != *c.Output {
					t.Fatalf("\n got %q\nwant %q", got, *c.Output)
				}
			default:
				if err == nil {
					t.Fatalf("rendered %q; the reference raised %s: %s", got, c.ErrorType, *c.Error)
				}
				if c.ErrorType == "TemplateError" {
					var e *Error
					if !asError(err, &e) || e.Kind != Raised || e.Msg != *c.Error {
						t.Fatalf("error %v; want raise_exception(%q)", err, *c.Error)
					}
				}
			}
			same++
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < atLeast {
		t.Fatalf("only %d cases", n)
	}
	t.Logf("%d cases, %d as the reference", n, same)
}
