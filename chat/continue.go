package chat

import (
	"errors"
	"fmt"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/jinja"
)

// continueTag is what render_jinja_template appends to the final message
// to find where it ends in the rendered text.
const continueTag = "CONTINUE_FINAL_MESSAGE_TAG "

var reasoningFields = []string{"reasoning_content", "thinking", "reasoning"}

// pyStrip is Python's str.strip() (whitespace as str.isspace).
func pyStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return strings.ContainsRune(" \t\n\v\f\r\x1c\x1d\x1e\x1f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000", r)
	})
}

// tagFinalMessage marks the final message of msgs (normalised copies) for
// continue_final_message = field, as render_jinja_template does; it returns
// the text the rendered chat must contain.
func (t *Template) tagFinalMessage(msgs []jinja.Value, field string) (string, error) {
	last := msgs[len(msgs)-1].(*jinja.Dict)
	final, ok := last.Get(field)
	if !ok || final == nil {
		return "", fmt.Errorf("chat: continue_final_message is set but the final message has no %q to continue", field)
	}
	fields := []string{field}
	for _, r := range reasoningFields {
		if r == field {
			fields = fields[:0]
			for _, f := range reasoningFields {
				if v, ok := last.Get(f); ok && jinja.Equal(v, final) {
					fields = append(fields, f)
				}
			}
			break
		}
	}
	inTemplate := false
	for _, f := range fields {
		inTemplate = inTemplate || strings.Contains(t.Source, f)
	}
	if !inTemplate {
		return "", fmt.Errorf("chat: continue_final_message is set to %q but this is not an accepted field in the chat_template", field)
	}
	switch x := final.(type) {
	case *jinja.List:
		for i := len(x.Items) - 1; i >= 0; i-- {
			part, ok := x.Items[i].(*jinja.Dict)
			if !ok {
				continue
			}
			text, ok := part.Get("text")
			if !ok {
				continue
			}
			s, ok := text.(string)
			if !ok {
				return "", fmt.Errorf("chat: continue_final_message: the last text part's \"text\" is not a string")
			}
			// Copy the part and its list: the conversation stays untouched.
			np := part.Copy()
			np.Set("text", s+continueTag)
			items := append([]jinja.Value(nil), x.Items...)
			items[i] = np
			last.Set(field, &jinja.List{Items: items})
			return s, nil
		}
		return "", errors.New("chat: continue_final_message is set but we could not find any text to continue in the final message")
	case string:
		for _, f := range fields {
			v, _ := last.Get(f)
			s, ok := v.(string)
			if !ok {
				return "", fmt.Errorf("chat: continue_final_message: %q is not a string", f)
			}
			last.Set(f, s+continueTag)
		}
		return x, nil
	}
	return "", fmt.Errorf("chat: continue_final_message: %q is neither a string nor a list", field)
}

// untagRendered cuts the rendered chat at the tag, as render_jinja_template
// does.
func untagRendered(rendered, final string) (string, error) {
	tag := pyStrip(continueTag)
	if !strings.Contains(rendered, pyStrip(final)) || !strings.Contains(rendered, tag) {
		return "", errors.New("chat: continue_final_message is set but the final message does not appear in the chat after applying the chat template")
	}
	loc := strings.LastIndex(rendered, tag)
	if strings.HasPrefix(rendered[loc:], continueTag) {
		return rendered[:loc], nil
	}
	return strings.TrimRightFunc(rendered[:loc], func(r rune) bool { return pyStrip(string(r)) == "" }), nil
}
