package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// jsonParser reads JSON with a streaming decoder, so that duplicate keys,
// which encoding/json would silently merge, are detected. Its errors match
// ErrInvalid; callers add context with within.
type jsonParser struct {
	dec  *json.Decoder
	what string // "header" or "index", for syntax error messages
}

// newJSONParser returns a parser of b that keeps numbers as json.Number.
func newJSONParser(b []byte, what string) *jsonParser {
	p := &jsonParser{dec: json.NewDecoder(bytes.NewReader(b)), what: what}
	p.dec.UseNumber()
	return p
}

// token returns the next JSON token, turning syntax errors and premature
// ends into format errors.
func (p *jsonParser) token() (json.Token, error) {
	t, err := p.dec.Token()
	if err != nil {
		return nil, p.syntaxError(err)
	}
	return t, nil
}

// syntaxError converts an error of the JSON decoder into a format error
// that within leaves alone: it already says where the problem is.
func (p *jsonParser) syntaxError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = invalidf("%s is not valid JSON: unexpected end", p.what)
	} else {
		err = invalidf("%s is not valid JSON near byte %d: %v", p.what, p.dec.InputOffset(), err)
	}
	err.(*msgError).syntax = true
	return err
}

// delim consumes the next token, which must be the delimiter d.
func (p *jsonParser) delim(d json.Delim) error {
	t, err := p.token()
	if err != nil {
		return err
	}
	if got, ok := t.(json.Delim); !ok || got != d {
		return invalidf("expected %q, found %s", string(d), describe(t))
	}
	return nil
}

// key consumes an object key.
func (p *jsonParser) key() (string, error) {
	t, err := p.token()
	if err != nil {
		return "", err
	}
	k, ok := t.(string)
	if !ok { // unreachable with a well-behaved decoder; keep it safe
		return "", invalidf("expected a key, found %s", describe(t))
	}
	return k, nil
}

// end checks that nothing but whitespace follows the top-level value.
func (p *jsonParser) end() error {
	t, err := p.dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return p.syntaxError(err)
	}
	return invalidf("%s has data after the top-level object: %s", p.what, describe(t))
}

// ints reads an array of non-negative integers; if n >= 0 the array must
// have exactly n elements.
func (p *jsonParser) ints(n int) ([]int64, error) {
	if err := p.delim('['); err != nil {
		return nil, err
	}
	var out []int64
	for p.dec.More() {
		t, err := p.token()
		if err != nil {
			return nil, err
		}
		num, ok := t.(json.Number)
		if !ok {
			return nil, invalidf("element %d is %s, not an integer", len(out), describe(t))
		}
		s := string(num)
		if strings.HasPrefix(s, "-") {
			return nil, invalidf("element %d is negative (%s)", len(out), s)
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return nil, invalidf("element %d (%s) is out of range", len(out), s)
			}
			return nil, invalidf("element %d (%s) is not an integer", len(out), s)
		}
		out = append(out, v)
	}
	if err := p.delim(']'); err != nil {
		return nil, err
	}
	if n >= 0 && len(out) != n {
		return nil, invalidf("has %d elements, want %d", len(out), n)
	}
	return out, nil
}

// within prefixes the message of err with context such as `tensor "a"`,
// unless it is a syntax error.
func within(context string, err error) error {
	var me *msgError
	if errors.As(err, &me) {
		if me.syntax {
			return err
		}
		return &msgError{msg: context + ": " + me.msg, err: me.err}
	}
	return fmt.Errorf("%s: %w", context, err)
}

// quote quotes s for an error message, shortening very long strings.
func quote(s string) string {
	const limit = 200
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}

// describe names a JSON token for an error message.
func describe(t json.Token) string {
	switch v := t.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "the number " + string(v)
	case string:
		return "the string " + quote(v)
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return strconv.Quote(string(v))
	}
	return fmt.Sprintf("%v", t)
}
