package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/mmhash"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// field is one member of a JSON object, its value as received.
type field struct {
	key string
	val json.RawMessage
}

// objectFields splits a JSON object into its members, in order, each value byte for byte as
// received; ok is false when raw is not exactly one object.
func objectFields(raw []byte) (fields []field, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, isKey := t.(string)
		if !isKey {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		fields = append(fields, field{k, v})
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return fields, true
}

// appendObject appends the object of fields, the values as they are.
func appendObject(b []byte, fields []field) []byte {
	b = append(b, '{')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(f.key)
		b = append(b, k...)
		b = append(b, ':')
		b = append(b, f.val...)
	}
	return append(b, '}')
}

// proxyMessage is one message of a forwarded request: its members, and when its content is a
// list of parts, those parts and which of them are images.
type proxyMessage struct {
	raw     json.RawMessage // the message as received
	fields  []field
	content int               // the index of "content" in fields, when parts is not nil
	parts   []json.RawMessage // the content list, when content is one
	images  []int             // the indices in parts of its image_url parts
}

// proxyRequest is a chat completion request to forward: the body's members, the messages,
// and the images of their image_url parts in order.
type proxyRequest struct {
	body     []byte
	fields   []field
	messages int // the index of "messages" in fields
	msgs     []proxyMessage
	images   []rawImage
	// kwargs is the request's mm_processor_kwargs (nil: none), whose pixel bounds (nil: not
	// given) the images are preprocessed with, as vLLM would.
	kwargs               mmhash.Map
	minPixels, maxPixels *int
}

// parseKwargs reads the request's mm_processor_kwargs, which vLLM hashes and whose size,
// min_pixels and max_pixels it resizes with (pipeline.VLLMPixelBounds; any other key is
// refused: the images are preprocessed here, and what it would change is not known), and
// refuses image media_io_kwargs (they change how vLLM decodes images, which is done here).
func (p *proxyRequest) parseKwargs() *apiError {
	for _, f := range p.fields {
		if isNull(f.val) {
			continue
		}
		switch f.key {
		case "mm_processor_kwargs":
			kw, err := mmhash.ParseObject(f.val)
			if err != nil {
				return paramError(f.key, "mm_processor_kwargs: %v", err)
			}
			lo, hi, err := pipeline.VLLMPixelBounds(kw)
			if err != nil {
				return paramError(f.key, "%s (the images are encoded here: vLLM never sees them)", strings.TrimPrefix(err.Error(), "pipeline: "))
			}
			p.kwargs = kw
			if lo > 0 {
				p.minPixels = &lo
			}
			if hi > 0 {
				p.maxPixels = &hi
			}
		case "media_io_kwargs":
			kw, err := mmhash.ParseObject(f.val)
			if err != nil {
				return paramError(f.key, "media_io_kwargs: %v", err)
			}
			for _, m := range kw {
				if m.Key == "image" {
					if im, ok := m.Value.(mmhash.Map); !ok || len(im) > 0 {
						return paramError(f.key+".image", "media_io_kwargs.image changes how vLLM decodes images; this proxy decodes them itself, as the Hugging Face processor does, and cannot follow it")
					}
				}
			}
		}
	}
	return nil
}

// parseProxy reads a chat completion request to forward: a JSON object whose messages are a
// list of objects; every image_url part of a content list is an image (a base64 data URL,
// or an http(s) URL under allow, fetched later), at most maxImages in all. A video part is
// refused (vLLM's video_embeds parts are not written yet). Everything else is left as it is,
// unread: the upstream judges it.
func parseProxy(body []byte, maxImages int, allow allowList) (*proxyRequest, *apiError) {
	if !json.Valid(body) {
		return nil, errorf(http.StatusBadRequest, CodeInvalidJSON, "the body is not valid JSON")
	}
	fields, ok := objectFields(body)
	if !ok {
		return nil, errorf(http.StatusBadRequest, CodeInvalidJSON, "the body is not a JSON object")
	}
	p := &proxyRequest{body: body, fields: fields, messages: -1}
	for i, f := range fields {
		if f.key == "messages" {
			p.messages = i
		}
	}
	if p.messages < 0 || isNull(fields[p.messages].val) {
		return nil, paramError("messages", "messages is missing: give a list of {role, content} messages")
	}
	var msgs []json.RawMessage
	if err := json.Unmarshal(fields[p.messages].val, &msgs); err != nil {
		return nil, paramError("messages", "messages must be a list of objects")
	}
	if len(msgs) == 0 {
		return nil, paramError("messages", "messages is empty")
	}
	for i, mr := range msgs {
		param := fmt.Sprintf("messages[%d]", i)
		mf, ok := objectFields(mr)
		if !ok {
			return nil, paramError(param, "%s is not an object", param)
		}
		m := proxyMessage{raw: mr, fields: mf, content: -1}
		role := false
		for k, f := range mf {
			switch f.key {
			case "content":
				m.content = k
			case "role":
				var r string
				if json.Unmarshal(f.val, &r) != nil || r == "" {
					return nil, paramError(param+".role", "%s.role must be a non-empty string (system, user, assistant, tool, …)", param)
				}
				role = true
			}
		}
		if !role {
			return nil, paramError(param+".role", "%s has no role", param)
		}
		if m.content >= 0 {
			c := bytes.TrimSpace(mf[m.content].val)
			if len(c) == 0 || (c[0] != '[' && c[0] != '"' && !isNull(c)) {
				return nil, paramError(param+".content", "%s.content must be a string, a list of content parts or null", param)
			}
			if c[0] == '[' {
				if err := json.Unmarshal(c, &m.parts); err != nil {
					return nil, paramError(param+".content", "%s.content: %s", param, jsonProblem(err))
				}
				if m.parts == nil {
					m.parts = []json.RawMessage{}
				}
			}
		}
		for j, pr := range m.parts {
			pp := fmt.Sprintf("%s.content[%d]", param, j)
			var part chatPart
			if b := bytes.TrimSpace(pr); len(b) == 0 || b[0] != '{' {
				return nil, paramError(pp, "%s is not an object", pp)
			}
			if err := json.Unmarshal(pr, &part); err != nil {
				return nil, paramError(pp, "%s: %s", pp, jsonProblem(err))
			}
			switch part.Type {
			case "image_url":
				data, u, e := imageURL(part.ImageURL, pp+".image_url", allow)
				if e != nil {
					return nil, e
				}
				if len(p.images) == maxImages {
					e := errorf(http.StatusRequestEntityTooLarge, CodeTooManyImages, "more than %d images in the request (the limit)", maxImages)
					e.param = pp
					return nil, e
				}
				p.images = append(p.images, rawImage{name: pp, data: data, url: u, param: pp + ".image_url.url"})
				m.images = append(m.images, j)
			case "video_url", "video":
				return nil, paramError(pp+".type", "%s is a video (%s): this proxy encodes images only (vLLM video_embeds parts are not written yet)", pp, part.Type)
			}
		}
		p.msgs = append(p.msgs, m)
	}
	if len(p.images) > 0 { // a request without images is the upstream's to judge
		if e := p.parseKwargs(); e != nil {
			return nil, e
		}
	}
	return p, nil
}

// render is the body to forward: the request with its k-th image_url part replaced by
// parts[k] (a JSON value), every other member, message and part as received. A request
// without images is its body unchanged.
func (p *proxyRequest) render(parts [][]byte) ([]byte, error) {
	if len(parts) != len(p.images) {
		return nil, fmt.Errorf("%d encoded parts for %d images", len(parts), len(p.images))
	}
	if len(parts) == 0 {
		return p.body, nil
	}
	next := 0
	msgs := []byte{'['}
	for i, m := range p.msgs {
		if i > 0 {
			msgs = append(msgs, ',')
		}
		if len(m.images) == 0 {
			msgs = append(msgs, m.raw...)
			continue
		}
		content := []byte{'['}
		k := 0
		for j, pr := range m.parts {
			if j > 0 {
				content = append(content, ',')
			}
			if k < len(m.images) && m.images[k] == j {
				content = append(content, parts[next]...)
				next++
				k++
				continue
			}
			content = append(content, pr...)
		}
		content = append(content, ']')
		fields := append([]field(nil), m.fields...)
		fields[m.content].val = content
		msgs = appendObject(msgs, fields)
	}
	msgs = append(msgs, ']')
	fields := append([]field(nil), p.fields...)
	fields[p.messages].val = msgs
	return appendObject(nil, fields), nil
}
