package tokenizer

import (
	"fmt"
	"strings"
)

// Stream decodes ids one at a time, as tokenizers' DecodeStream (Python
// tokenizers.decoders.DecodeStream): Next returns the text that became complete with the
// id, or "" when none did (step's None; a step never returns an empty Some). Text ending
// in U+FFFD is held back as a possibly incomplete UTF-8 sequence — so a genuine U+FFFD is
// emitted only once later text follows it. A Stream is not safe for concurrent use.
type Stream struct {
	t           *Tokenizer
	skip        bool
	ids         []int32
	prefix      string
	prefixIndex int
}

// NewStream returns a stream decoder; skipSpecial is as for Decode.
func (t *Tokenizer) NewStream(skipSpecial bool) *Stream {
	return &Stream{t: t, skip: skipSpecial}
}

// Next feeds one id. An unknown id is an error and leaves the stream unchanged.
func (s *Stream) Next(id int32) (string, error) {
	if !s.t.has(id) {
		return "", fmt.Errorf("tokenizer: %s: stream: unknown id %d", s.t.name, id)
	}
	if s.prefix == "" && len(s.ids) > 0 {
		p, err := s.t.Decode(s.ids, s.skip)
		if err != nil {
			return "", err
		}
		if !strings.HasSuffix(p, "\uFFFD") {
			s.prefix = p
			s.prefixIndex = len(s.ids)
		}
	}
	s.ids = append(s.ids, id)
	str, err := s.t.Decode(s.ids, s.skip)
	if err != nil {
		return "", err
	}
	if len(str) <= len(s.prefix) || strings.HasSuffix(str, "\uFFFD") {
		return "", nil
	}
	if !strings.HasPrefix(str, s.prefix) {
		return "", fmt.Errorf("tokenizer: %s: stream: id %d: decoded text %q does not start with the prefix %q", s.t.name, id, str, s.prefix)
	}
	out := str[len(s.prefix):]
	newIndex := len(s.ids) - s.prefixIndex
	s.ids = append(s.ids[:0], s.ids[s.prefixIndex:]...)
	if s.prefix, err = s.t.Decode(s.ids, s.skip); err != nil {
		return "", err
	}
	s.prefixIndex = newIndex
	return out, nil
}
