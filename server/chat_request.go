package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/qwen3vl/qwen3vl/chat"
)

// chatRoute is the OpenAI-compatible chat endpoint, served with a whole model.
const chatRoute = "/v1/chat/completions"

// chatRequest is the part of an OpenAI chat completion request read here; other fields are
// ignored, as OpenAI's API does with fields it does not know (user, metadata, store, …). Pointers tell absent from zero.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            json.RawMessage `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	PresencePenalty     *float64        `json:"presence_penalty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty"`
	Seed                *int64          `json:"seed"`
	Stop                json.RawMessage `json:"stop"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	N *int `json:"n"`

	// Features that change what the answer is or holds, not offered here: refused rather
	// than ignored, so that a client relying on one learns it at once (unsupported).
	Tools          json.RawMessage `json:"tools"`
	Functions      json.RawMessage `json:"functions"`
	ToolChoice     json.RawMessage `json:"tool_choice"`
	FunctionCall   json.RawMessage `json:"function_call"`
	Logprobs       *bool           `json:"logprobs"`
	TopLogprobs    *int            `json:"top_logprobs"`
	ResponseFormat json.RawMessage `json:"response_format"`
	LogitBias      json.RawMessage `json:"logit_bias"`
}

// unsupported returns the 400 for the first request field asking for a feature this server
// does not offer (tool calling, log probabilities, a structured response format, logit
// biases), or nil. Values that ask for nothing (null, an empty list or object, logprobs
// false, tool_choice "none" or "auto", response_format {"type": "text"}) are accepted.
func (r *chatRequest) unsupported() *apiError {
	refuse := func(param, what string) *apiError {
		e := errorf(http.StatusBadRequest, CodeUnsupportedParameter, "%s: %s is not offered by this server", param, what)
		e.param = param
		return e
	}
	empty := func(raw json.RawMessage) bool {
		t := string(bytes.TrimSpace(raw))
		return isNull(raw) || t == "[]" || t == "{}"
	}
	switch {
	case !empty(r.Tools):
		return refuse("tools", "tool calling")
	case !empty(r.Functions):
		return refuse("functions", "function calling")
	case !isNull(r.ToolChoice) && !isJSONString(r.ToolChoice, "none", "auto"):
		return refuse("tool_choice", "tool calling")
	case !isNull(r.FunctionCall) && !isJSONString(r.FunctionCall, "none", "auto"):
		return refuse("function_call", "function calling")
	case r.Logprobs != nil && *r.Logprobs:
		return refuse("logprobs", "log probabilities")
	case r.TopLogprobs != nil && *r.TopLogprobs != 0:
		return refuse("top_logprobs", "log probabilities")
	case !isNull(r.ResponseFormat):
		var f struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(r.ResponseFormat, &f) != nil || f.Type != "text" {
			return refuse("response_format", "a response format other than {\"type\": \"text\"}")
		}
	case !empty(r.LogitBias):
		return refuse("logit_bias", "logit bias")
	}
	return nil
}

// isJSONString reports whether raw is a JSON string equal to one of want.
func isJSONString(raw json.RawMessage, want ...string) bool {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return false
	}
	for _, w := range want {
		if s == w {
			return true
		}
	}
	return false
}

// chatMessage is one message of the request.
type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// chatPart is one part of a message's content list.
type chatPart struct {
	Type     string          `json:"type"`
	Text     *string         `json:"text"`
	ImageURL json.RawMessage `json:"image_url"`
}

// chatInput is a parsed request: the conversation in the chat package's form (image parts
// as {"type": "image"}, in order) and the images' bytes in the same order.
type chatInput struct {
	req    chatRequest
	conv   *chat.Conversation
	images []rawImage
	stop   []string
}

// paramError is a 400 naming the request field at fault (OpenAI's "param").
func paramError(param, format string, a ...any) *apiError {
	e := errorf(http.StatusBadRequest, CodeInvalidParameter, format, a...)
	e.param = param
	return e
}

// parseChat parses and validates a chat request body: every problem is found before a
// generation slot is taken. maxImages bounds the images of all messages; an image_url part
// with an http(s) URL is refused unless it is under allow (its image is fetched later, by
// Server.fetchImages).
func parseChat(body []byte, maxImages int, allow allowList) (*chatInput, *apiError) {
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return nil, errorf(http.StatusBadRequest, CodeInvalidJSON, "the body is not a JSON object")
	}
	in := &chatInput{}
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(&in.req); err != nil {
		e := errorf(http.StatusBadRequest, CodeInvalidJSON, "%s", jsonProblem(err))
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			e.param = te.Field
		}
		return nil, e
	}
	if d.More() {
		return nil, errorf(http.StatusBadRequest, CodeInvalidJSON, "data after the JSON object")
	}
	r := &in.req
	if e := r.unsupported(); e != nil {
		return nil, e
	}
	if r.N != nil && *r.N != 1 {
		return nil, paramError("n", "n is %d: this server generates one choice (n = 1)", *r.N)
	}
	if r.Temperature != nil && (math.IsNaN(*r.Temperature) || *r.Temperature < 0 || *r.Temperature > 2) {
		return nil, paramError("temperature", "temperature %v is not in [0, 2]", *r.Temperature)
	}
	if r.TopP != nil && (math.IsNaN(*r.TopP) || *r.TopP < 0 || *r.TopP > 1) {
		return nil, paramError("top_p", "top_p %v is not in [0, 1]", *r.TopP)
	}
	for _, p := range []struct {
		name string
		v    *float64
	}{{"presence_penalty", r.PresencePenalty}, {"frequency_penalty", r.FrequencyPenalty}} {
		if p.v != nil && (math.IsNaN(*p.v) || *p.v < -2 || *p.v > 2) {
			return nil, paramError(p.name, "%s %v is not in [-2, 2]", p.name, *p.v)
		}
	}
	for _, p := range []struct {
		name string
		v    *int
	}{{"max_tokens", r.MaxTokens}, {"max_completion_tokens", r.MaxCompletionTokens}} {
		if p.v != nil && *p.v < 1 {
			return nil, paramError(p.name, "%s %d must be at least 1", p.name, *p.v)
		}
	}
	if !isNull(r.Stop) {
		var one string
		if err := json.Unmarshal(r.Stop, &one); err == nil {
			in.stop = []string{one}
		} else if err := json.Unmarshal(r.Stop, &in.stop); err != nil {
			return nil, paramError("stop", "stop must be a string or a list of strings")
		}
		if len(in.stop) > 4 {
			return nil, paramError("stop", "stop has %d strings, more than 4", len(in.stop))
		}
		for i, s := range in.stop {
			if s == "" {
				return nil, paramError("stop", "stop[%d] is empty", i)
			}
		}
	}
	conv, images, e := parseMessages(r.Messages, maxImages, allow)
	if e != nil {
		return nil, e
	}
	in.conv, in.images = conv, images
	return in, nil
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// parseMessages turns OpenAI messages into a chat.Conversation: a string content stays a
// string; a list of parts becomes a list of {"type": "text", "text"} and {"type": "image"}
// parts (the image's bytes, or its URL to fetch, go to the returned list, in order). The image_url parts are
// rewritten here rather than left to the chat package's normalisation, so that the base64
// data does not travel through the template's values; the template sees the same parts.
func parseMessages(raw json.RawMessage, maxImages int, allow allowList) (*chat.Conversation, []rawImage, *apiError) {
	if isNull(raw) {
		return nil, nil, paramError("messages", "messages is missing: give a list of {role, content} messages")
	}
	var msgs []json.RawMessage
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return nil, nil, paramError("messages", "messages must be a list of objects")
	}
	if len(msgs) == 0 {
		return nil, nil, paramError("messages", "messages is empty")
	}
	var images []rawImage
	out := make([]map[string]any, 0, len(msgs))
	for i, mr := range msgs {
		param := fmt.Sprintf("messages[%d]", i)
		var m chatMessage
		if t := bytes.TrimSpace(mr); len(t) == 0 || t[0] != '{' {
			return nil, nil, paramError(param, "%s is not an object", param)
		}
		if err := json.Unmarshal(mr, &m); err != nil {
			return nil, nil, paramError(param, "%s: %s", param, jsonProblem(err))
		}
		switch m.Role {
		case "system", "user", "assistant":
		case "developer":
			m.Role = "system" // OpenAI's newer name of the system role
		case "":
			return nil, nil, paramError(param+".role", "%s has no role (system, user or assistant)", param)
		default:
			return nil, nil, paramError(param+".role", "%s.role %q is not system, user or assistant", param, m.Role)
		}
		msg := map[string]any{"role": m.Role}
		t := bytes.TrimSpace(m.Content)
		switch {
		case isNull(t):
			if m.Role != "assistant" {
				return nil, nil, paramError(param+".content", "%s has no content", param)
			}
			msg["content"] = ""
		case t[0] == '"':
			var s string
			if err := json.Unmarshal(t, &s); err != nil {
				return nil, nil, paramError(param+".content", "%s.content: %s", param, jsonProblem(err))
			}
			msg["content"] = s
		case t[0] == '[':
			var parts []json.RawMessage
			if err := json.Unmarshal(t, &parts); err != nil {
				return nil, nil, paramError(param+".content", "%s.content: %s", param, jsonProblem(err))
			}
			list := make([]map[string]any, 0, len(parts))
			for j, pr := range parts {
				pp := fmt.Sprintf("%s.content[%d]", param, j)
				var p chatPart
				if b := bytes.TrimSpace(pr); len(b) == 0 || b[0] != '{' {
					return nil, nil, paramError(pp, "%s is not an object", pp)
				}
				if err := json.Unmarshal(pr, &p); err != nil {
					return nil, nil, paramError(pp, "%s: %s", pp, jsonProblem(err))
				}
				switch p.Type {
				case "text":
					if p.Text == nil {
						return nil, nil, paramError(pp+".text", "%s has type text and no text", pp)
					}
					list = append(list, map[string]any{"type": "text", "text": *p.Text})
				case "image_url":
					if m.Role != "user" {
						return nil, nil, paramError(pp, "%s: images are allowed in user messages only", pp)
					}
					data, u, e := imageURL(p.ImageURL, pp+".image_url", allow)
					if e != nil {
						return nil, nil, e
					}
					if len(images) == maxImages {
						e := errorf(http.StatusRequestEntityTooLarge, CodeTooManyImages, "more than %d images in the request (the limit)", maxImages)
						e.param = pp
						return nil, nil, e
					}
					images = append(images, rawImage{name: pp, data: data, url: u, param: pp + ".image_url.url"})
					list = append(list, map[string]any{"type": "image"})
				case "":
					return nil, nil, paramError(pp+".type", "%s has no type (text or image_url)", pp)
				default:
					return nil, nil, paramError(pp+".type", "%s.type %q is not supported (text or image_url)", pp, p.Type)
				}
			}
			msg["content"] = list
		default:
			return nil, nil, paramError(param+".content", "%s.content must be a string or a list of parts", param)
		}
		out = append(out, msg)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, nil, errorf(http.StatusInternalServerError, CodeInternal, "encoding the conversation: %v", err)
	}
	conv, err := chat.ParseConversation(b)
	if err != nil {
		return nil, nil, paramError("messages", "%s", strings.TrimPrefix(err.Error(), "chat: "))
	}
	return conv, images, nil
}

// imageURL reads an image_url part's {"url": …}: a base64 data URL, or an http(s) URL under
// the allow-list, to be fetched.
func imageURL(raw json.RawMessage, param string, allow allowList) ([]byte, *url.URL, *apiError) {
	var u struct {
		URL *string `json:"url"`
	}
	if b := bytes.TrimSpace(raw); len(b) == 0 || b[0] != '{' {
		return nil, nil, paramError(param, "%s must be an object {\"url\": \"data:image/…;base64,…\"}", param)
	}
	if err := json.Unmarshal(raw, &u); err != nil || u.URL == nil {
		return nil, nil, paramError(param+".url", "%s has no url string", param)
	}
	return imageFromURL(*u.URL, allow, param+".url", param+".url", "send the image as a data URL (data:image/png;base64,…)")
}

// imageFromURL reads an image's URL: a base64 data URL gives the image's bytes; an http or
// https URL under the allow-list is returned (normalised) to be fetched. Any other URL is
// refused: 400 url_not_supported when the allow-list is empty (hint says how to send the
// bytes instead), 400 url_not_allowed when the URL is not under it. where names the field
// in messages, param is the field of the OpenAI error body ("" for /v1/encode).
func imageFromURL(s string, allow allowList, where, param, hint string) ([]byte, *url.URL, *apiError) {
	fail := func(status int, code, format string, a ...any) ([]byte, *url.URL, *apiError) {
		e := errorf(status, code, format, a...)
		e.param = param
		return nil, nil, e
	}
	if rest, ok := cutPrefixFold(s, "data:"); ok {
		meta, _, ok := strings.Cut(rest, ",")
		if !ok || !strings.HasSuffix(strings.ToLower(meta), ";base64") {
			return fail(http.StatusBadRequest, CodeInvalidParameter, "%s is not a base64 data URL (data:image/png;base64,…)", where)
		}
		data, err := decodeBase64("data:" + rest)
		if err != nil {
			return fail(http.StatusBadRequest, CodeInvalidImage, "%s: bad base64: %v", where, err)
		}
		if len(data) == 0 {
			return fail(http.StatusBadRequest, CodeInvalidImage, "%s: the image is empty", where)
		}
		return data, nil, nil
	}
	if u, err := url.Parse(s); err != nil || u.Scheme == "" {
		if len(allow) == 0 {
			return fail(http.StatusBadRequest, CodeInvalidParameter, "%s is not a data URL (data:image/png;base64,…)", where)
		}
		return fail(http.StatusBadRequest, CodeInvalidParameter, "%s is neither a data URL (data:image/png;base64,…) nor an http(s) URL", where)
	}
	if len(allow) == 0 {
		return fail(http.StatusBadRequest, CodeURLNotSupported, "%s: this server fetches no images by URL (its operator may allow URL prefixes with qwen3vl serve -allow-url); %s", where, hint)
	}
	u, err := allow.check(s)
	if err != nil {
		return fail(http.StatusBadRequest, CodeURLNotAllowed, "%s: the URL %v", where, err)
	}
	return nil, u, nil
}

// cutPrefixFold is strings.CutPrefix with the prefix matched case-insensitively.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
