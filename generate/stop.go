package generate

import (
	"bytes"

	"github.com/qwen3vl/qwen3vl/tokenizer"
)

// StopMatcher decides stop strings as HF's StopStringCriteria does for a byte-level
// tokenizer: each id stands for its bytes (a byte-level piece mapped back to bytes; an
// added token, special ones included, for the UTF-8 bytes of its content), the ids so far
// (the prompt's too) are joined, and a stop string matches when it occurs in those bytes
// ending inside the last id's bytes — it may start in earlier ids (in the prompt as well)
// and the last id may run past its end, but a stop string that ended before the last id
// no longer counts. Matching is on bytes, so a stop string may end in the middle of a
// character's bytes. Not safe for concurrent use.
type StopMatcher struct {
	tok    *tokenizer.Tokenizer
	stops  [][]byte
	maxLen int
	tail   []byte // the last bytes of the ids so far (enough for a match)
	piece  []byte
}

// NewStopMatcher returns a matcher of stops (empty strings are ignored).
func NewStopMatcher(tok *tokenizer.Tokenizer, stops []string) *StopMatcher {
	m := &StopMatcher{tok: tok}
	for _, s := range stops {
		if s != "" {
			m.stops = append(m.stops, []byte(s))
			m.maxLen = max(m.maxLen, len(s))
		}
	}
	return m
}

// Push adds an id and returns the index (in the list given to NewStopMatcher, empty
// strings skipped) of the first stop string that it completes, or -1.
func (m *StopMatcher) Push(id int32) int {
	if len(m.stops) == 0 {
		return -1
	}
	m.piece = appendIDBytes(m.piece[:0], m.tok, id)
	l := len(m.piece)
	m.tail = append(m.tail, m.piece...)
	found := -1
	if l > 0 {
		for i, s := range m.stops {
			start := max(0, len(m.tail)-l-len(s)+1)
			if bytes.Contains(m.tail[start:], s) {
				found = i
				break
			}
		}
	}
	if keep := m.maxLen - 1; len(m.tail) > keep {
		n := copy(m.tail, m.tail[len(m.tail)-keep:])
		m.tail = m.tail[:n]
	}
	return found
}

// byteOf maps a byte-level character back to its byte (GPT-2's bytes_to_unicode,
// inverted); ok is false for a rune outside the map.
func byteOf(r rune) (byte, bool) {
	switch {
	case r >= '!' && r <= '~', r >= 0xA1 && r <= 0xAC, r >= 0xAE && r <= 0xFF:
		return byte(r), true
	case r >= 0x100 && r < 0x100+rune(len(shiftedBytes)):
		return shiftedBytes[r-0x100], true
	}
	return 0, false
}

// shiftedBytes are the bytes bytes_to_unicode moves to U+0100…: the ones outside the
// printable ranges, in order (0x00–0x20, 0x7F–0xA0, 0xAD).
var shiftedBytes = func() (t [68]byte) {
	n := 0
	for b := 0; b < 256; b++ {
		if !(b >= '!' && b <= '~') && !(b >= 0xA1 && b <= 0xAC) && b < 0xAE {
			t[n] = byte(b)
			n++
		}
	}
	return t
}()

// appendIDBytes appends the bytes id stands for in stop-string matching: the piece mapped
// through byteOf when every rune maps, else the piece's UTF-8 (an added token such as
// "<|im_end|>" maps to itself either way). An unknown id stands for no bytes.
func appendIDBytes(dst []byte, tok *tokenizer.Tokenizer, id int32) []byte {
	p, ok := tok.Piece(id)
	if !ok {
		return dst
	}
	n := len(dst)
	for _, r := range p {
		b, ok := byteOf(r)
		if !ok {
			return append(dst[:n], p...)
		}
		dst = append(dst, b)
	}
	return dst
}
