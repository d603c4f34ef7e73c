package chat

import (
	"errors"
	"fmt"

	"github.com/qwen3vl/qwen3vl/internal/jinja"
)

// MaxConversationBytes bounds the JSON ParseConversation accepts.
const MaxConversationBytes = 64 << 20

// Conversation is a parsed conversation: the messages, the tools and any
// other variables, as the template will see them. Objects keep their key
// order and numbers their JSON form (1 is an int, 1.0 a float).
type Conversation struct {
	// Messages are the messages as given (before the processor's
	// normalisation, which Render applies to a copy).
	Messages []*jinja.Dict
	// Tools is the "tools" list, or nil.
	Tools *jinja.List
	// Documents is the "documents" list, or nil.
	Documents *jinja.List
	// Vars are the object's other keys, passed to the template as variables.
	Vars *jinja.Dict
}

// ParseConversation parses JSON that is either a list of messages or an
// object {"messages": [...], "tools": [...], "documents": [...], other keys
// passed to the template as variables}. Each message must be an object with
// a string "role"; its "content", if present, must be a string, a list or
// null. Errors name the message by index.
func ParseConversation(data []byte) (*Conversation, error) {
	if len(data) > MaxConversationBytes {
		return nil, fmt.Errorf("chat: conversation larger than %d bytes", MaxConversationBytes)
	}
	v, err := jinja.DecodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("chat: conversation: %w", err)
	}
	c := &Conversation{Vars: jinja.NewDict()}
	var msgs jinja.Value
	switch x := v.(type) {
	case *jinja.List:
		msgs = x
	case *jinja.Dict:
		m, ok := x.Get("messages")
		if !ok {
			return nil, errors.New(`chat: conversation: an object needs a "messages" list`)
		}
		msgs = m
		for i, k := range x.Keys() {
			ks := k.(string)
			val := x.Values()[i]
			switch ks {
			case "messages":
			case "tools", "documents":
				if val == nil {
					continue
				}
				l, ok := val.(*jinja.List)
				if !ok {
					return nil, fmt.Errorf("chat: conversation: %q must be a list", ks)
				}
				for j, it := range l.Items {
					if _, ok := it.(*jinja.Dict); !ok {
						return nil, fmt.Errorf("chat: conversation: %s[%d] must be an object", ks, j)
					}
				}
				if ks == "tools" {
					c.Tools = l
				} else {
					c.Documents = l
				}
			case "add_generation_prompt", "continue_final_message", "chat_template", "tokenize":
				return nil, fmt.Errorf("chat: conversation: %q is an option of Render, not a template variable", ks)
			default:
				c.Vars.Set(ks, val)
			}
		}
	default:
		return nil, errors.New("chat: conversation: want a list of messages or an object with \"messages\"")
	}
	l, ok := msgs.(*jinja.List)
	if !ok {
		return nil, errors.New(`chat: conversation: "messages" must be a list`)
	}
	for i, it := range l.Items {
		m, ok := it.(*jinja.Dict)
		if !ok {
			return nil, fmt.Errorf("chat: message %d: not an object", i)
		}
		role, ok := m.Get("role")
		if _, isStr := role.(string); !ok || !isStr {
			return nil, fmt.Errorf("chat: message %d: \"role\" must be a string", i)
		}
		if content, ok := m.Get("content"); ok {
			switch content.(type) {
			case nil, string, *jinja.List:
			default:
				return nil, fmt.Errorf("chat: message %d: \"content\" must be a string, a list or null", i)
			}
		}
		c.Messages = append(c.Messages, m)
	}
	return c, nil
}

// Counts returns the number of image and video parts in the messages'
// content lists, by the test the Qwen templates apply to each part: an
// image is a part with type "image" or an "image" or "image_url" key (so
// OpenAI image_url parts count); a video, otherwise, one with type "video"
// or a "video" key. (A {"type": "video_url"} part is neither to the
// templates, which drop it.)
func (c *Conversation) Counts() (images, videos int) {
	for _, m := range c.Messages {
		content, _ := m.Get("content")
		parts, ok := content.(*jinja.List)
		if !ok {
			continue
		}
		for _, p := range parts.Items {
			d, ok := p.(*jinja.Dict)
			if !ok {
				continue
			}
			typ, _ := d.Get("type")
			_, hasImage := d.Get("image")
			_, hasImageURL := d.Get("image_url")
			_, hasVideo := d.Get("video")
			switch {
			case typ == "image" || hasImage || hasImageURL:
				images++
			case typ == "video" || hasVideo:
				videos++
			}
		}
	}
	return images, videos
}
