package chat

import (
	"errors"
	"fmt"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/jinja"
)

// Options are the arguments of apply_chat_template besides the messages
// and tools.
type Options struct {
	// AddGenerationPrompt is add_generation_prompt.
	AddGenerationPrompt bool
	// Vars are the other keyword arguments, passed to the template as
	// variables (add_vision_id, enable_thinking, preserve_thinking, …).
	// Values are template values: nil, bool, int, int64, float64, string,
	// []any, map[string]any (keys sorted) or internal jinja values. They
	// override the conversation's own variables of the same name.
	Vars map[string]any
	// ContinueFinalMessage is continue_final_message: the final message is
	// left open (no end-of-turn after it) so a model continues it.
	// ContinueField is the field continued ("" means "content"; a reasoning
	// field continues every alias holding the same text). Incompatible with
	// AddGenerationPrompt.
	ContinueFinalMessage bool
	ContinueField        string
	// Now is the time strftime_now formats; zero means time.Now().
	Now time.Time
}

// RenderError is a template's raise_exception (jinja2's TemplateError):
// Message is exactly the template's message.
type RenderError struct {
	Template string
	Line     int
	Message  string
}

func (e *RenderError) Error() string {
	return fmt.Sprintf("chat: %s:%d: %s", e.Template, e.Line, e.Message)
}

var reserved = map[string]bool{"messages": true, "tools": true, "documents": true, "add_generation_prompt": true}

// Render renders the conversation: processor.apply_chat_template(messages,
// tools=c.Tools, tokenize=False, add_generation_prompt=o.AddGenerationPrompt,
// **vars) with vars the template's SpecialTokens, updated by the
// conversation's variables, updated by o.Vars. An
// error the template raises with raise_exception is a *RenderError.
func (t *Template) Render(c *Conversation, o Options) (string, error) {
	if c == nil || len(c.Messages) == 0 {
		// The processor indexes conversation[0] to detect batching.
		return "", errors.New("chat: the conversation has no messages")
	}
	vars := jinja.NewDict()
	msgs := make([]jinja.Value, len(c.Messages))
	for i, m := range c.Messages {
		msgs[i] = normaliseMessage(m)
	}
	var final string
	if o.ContinueFinalMessage {
		if o.AddGenerationPrompt {
			return "", errors.New("chat: continue_final_message and add_generation_prompt are not compatible")
		}
		field := o.ContinueField
		if field == "" {
			field = "content"
		}
		var err error
		if final, err = t.tagFinalMessage(msgs, field); err != nil {
			return "", err
		}
	}
	vars.Set("messages", &jinja.List{Items: msgs})
	vars.Set("tools", listOrNone(c.Tools))
	vars.Set("documents", listOrNone(c.Documents))
	vars.Set("add_generation_prompt", o.AddGenerationPrompt)
	for _, attr := range specialAttributes {
		if tok, ok := t.SpecialTokens[attr]; ok {
			vars.Set(attr, tok)
		}
	}
	if c.Vars != nil {
		for i, k := range c.Vars.Keys() {
			vars.Set(k, c.Vars.Values()[i])
		}
	}
	for k, v := range o.Vars {
		if reserved[k] {
			return "", fmt.Errorf("chat: Options.Vars: %q is not a template variable to set (use the conversation or Options)", k)
		}
		jv, err := toValue(v)
		if err != nil {
			return "", fmt.Errorf("chat: Options.Vars[%q]: %w", k, err)
		}
		vars.Set(k, jv)
	}
	out, err := t.t.Render(vars, jinja.Options{Now: o.Now})
	if err != nil {
		var je *jinja.Error
		if errors.As(err, &je) && je.Kind == jinja.Raised {
			return "", &RenderError{Template: je.Name, Line: je.Line, Message: je.Msg}
		}
		return "", fmt.Errorf("chat: %w", err)
	}
	if o.ContinueFinalMessage {
		return untagRendered(out, final)
	}
	return out, nil
}

func listOrNone(l *jinja.List) jinja.Value {
	if l == nil {
		return nil
	}
	return l
}

// normaliseMessage applies the processor's normalisation to a copy of m:
// null values dropped, image_url parts turned into image parts, reasoning
// aliased under "thinking" and "reasoning_content".
func normaliseMessage(m *jinja.Dict) *jinja.Dict {
	out := jinja.NewDict()
	for i, k := range m.Keys() {
		if v := m.Values()[i]; v != nil {
			out.Set(k, v)
		}
	}
	if content, ok := out.Get("content"); ok {
		if parts, ok := content.(*jinja.List); ok {
			np := make([]jinja.Value, len(parts.Items))
			for i, p := range parts.Items {
				np[i] = p
				d, ok := p.(*jinja.Dict)
				if !ok {
					continue
				}
				typ, _ := d.Get("type")
				info, has := d.Get("image_url")
				if typ != "image_url" || !has {
					continue
				}
				var url jinja.Value = info
				if id, ok := info.(*jinja.Dict); ok {
					url = ""
					if u, ok := id.Get("url"); ok {
						url = u
					}
				}
				img := jinja.NewDict()
				img.Set("type", "image")
				img.Set("url", url)
				np[i] = img
			}
			out.Set("content", &jinja.List{Items: np})
		}
	}
	var reasoning jinja.Value
	for _, k := range []string{"reasoning_content", "thinking", "reasoning"} {
		if v, ok := out.Get(k); ok && v != nil {
			reasoning = v
			break
		}
	}
	if reasoning == nil {
		return out
	}
	aliased := jinja.NewDict()
	aliased.Set("thinking", reasoning)
	for i, k := range out.Keys() {
		aliased.Set(k, out.Values()[i])
	}
	aliased.Set("reasoning_content", reasoning)
	return aliased
}
