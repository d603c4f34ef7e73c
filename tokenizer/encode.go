package tokenizer

import (
	"fmt"
	"unicode/utf8"

	"github.com/qwen3vl/qwen3vl/tokenizer/internal/pattern"
)

// encoder is the reusable scratch state of one Encode call (pooled per Tokenizer).
type encoder struct {
	m         pattern.Machine
	pieces    [][2]int // pre-token offsets into the current segment
	next      [][2]int
	marks     []mark
	syms      []symbol
	heap      []mergeItem
	bl        []byte
	cache     map[string][]int32 // pre-token → ids, at most cacheWords entries
	forceHeap bool               // tests: merge every word with the heap
}

// mark is a piece of a split with whether the pattern matched it.
type mark struct {
	start, end int
	match      bool
}

func (t *Tokenizer) newEncoder() *encoder {
	return &encoder{cache: make(map[string][]int32, 1024)}
}

// Encode returns the ids of text, as Hugging Face's tokenizer(text).input_ids: added
// tokens are cut out of the raw text first; each other segment is normalized (NFC),
// split by the pre-tokenizer's patterns, mapped to byte-level form and merged by BPE.
// Invalid UTF-8 (which a Python str cannot hold) is an error naming its byte offset.
func (t *Tokenizer) Encode(text string) ([]int32, error) {
	return t.AppendEncode(nil, text)
}

// AppendEncode appends the ids of text to dst (see Encode).
func (t *Tokenizer) AppendEncode(dst []int32, text string) ([]int32, error) {
	if !utf8.ValidString(text) {
		return dst, fmt.Errorf("tokenizer: %s: encode: invalid UTF-8 at byte offset %d", t.name, invalidAt(text))
	}
	e := t.pool.Get().(*encoder)
	defer t.pool.Put(e)
	addTok := func(id int32) { dst = append(dst, id) }
	e.m.Exceeded = false
	t.rawMatch.splitAdded(text, t.splitSpecial, func(seg string) {
		seg = t.normalize(seg)
		t.normMatch.splitAdded(seg, t.splitSpecial, func(s string) {
			if !e.m.Exceeded {
				dst = t.encodeSegment(e, s, dst)
			}
		}, addTok)
	}, addTok)
	if e.m.Exceeded {
		return dst, fmt.Errorf("tokenizer: %s: encode: the split pattern backtracked more than %d times in one search; the pattern is pathological for this text", t.name, pattern.MaxBacktracks)
	}
	return dst, nil
}

func invalidAt(s string) int {
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			return i
		}
		i += w
	}
	return len(s)
}

// encodeSegment pre-tokenizes a normalized segment and merges each pre-token.
func (t *Tokenizer) encodeSegment(e *encoder, s string, dst []int32) []int32 {
	for _, p := range t.preTokenize(e, s) {
		dst = t.bpe(e, s[p[0]:p[1]], dst)
	}
	return dst
}

// preTokenize returns the pre-token offsets of s (into e.pieces).
func (t *Tokenizer) preTokenize(e *encoder, s string) [][2]int {
	e.pieces = append(e.pieces[:0], [2]int{0, len(s)})
	if len(s) == 0 {
		e.pieces = e.pieces[:0]
	}
	for i := range t.splits {
		st := &t.splits[i]
		e.next = e.next[:0]
		for _, p := range e.pieces {
			e.next = st.apply(e, s, p[0], p[1], e.next)
		}
		e.pieces, e.next = e.next, e.pieces
	}
	return e.pieces
}

// apply splits s[lo:hi] as NormalizedString::split does and appends the non-empty pieces
// (absolute offsets) to out.
func (st *splitStep) apply(e *encoder, s string, lo, hi int, out [][2]int) [][2]int {
	sub := s[lo:hi]
	if st.behavior == behaviorIsolated && !st.invert {
		prev := 0
		it := st.re.Iter(&e.m, sub)
		for {
			a, b, ok := it.Next()
			if !ok {
				break
			}
			if prev < a {
				out = append(out, [2]int{lo + prev, lo + a})
			}
			if a < b {
				out = append(out, [2]int{lo + a, lo + b})
			}
			prev = b
		}
		if prev < len(sub) {
			out = append(out, [2]int{lo + prev, hi})
		}
		return out
	}
	// General path: the (offsets, is_match) list of Pattern::find_matches.
	ms := e.marks[:0]
	if len(sub) == 0 {
		ms = append(ms, mark{0, 0, false})
	} else {
		prev := 0
		it := st.re.Iter(&e.m, sub)
		for {
			a, b, ok := it.Next()
			if !ok {
				break
			}
			if prev != a {
				ms = append(ms, mark{prev, a, false})
			}
			ms = append(ms, mark{a, b, true})
			prev = b
		}
		if prev != len(sub) {
			ms = append(ms, mark{prev, len(sub), false})
		}
	}
	if st.invert {
		for i := range ms {
			ms[i].match = !ms[i].match
		}
	}
	e.marks = ms
	// Each resulting piece: offsets and whether it is removed.
	type piece struct {
		a, b   int
		remove bool
	}
	var res []piece
	switch st.behavior {
	case behaviorIsolated:
		for _, m := range ms {
			res = append(res, piece{m.start, m.end, false})
		}
	case behaviorRemoved:
		for _, m := range ms {
			res = append(res, piece{m.start, m.end, m.match})
		}
	case behaviorContiguous:
		prevMatch := false
		for _, m := range ms {
			if m.match == prevMatch && len(res) > 0 {
				res[len(res)-1].b = m.end
			} else {
				res = append(res, piece{m.start, m.end, false})
			}
			prevMatch = m.match
		}
	case behaviorMergedWithPrevious:
		prevMatch := false
		for _, m := range ms {
			if m.match && !prevMatch && len(res) > 0 {
				res[len(res)-1].b = m.end
			} else {
				res = append(res, piece{m.start, m.end, false})
			}
			prevMatch = m.match
		}
	case behaviorMergedWithNext:
		prevMatch := false
		for i := len(ms) - 1; i >= 0; i-- {
			m := ms[i]
			if m.match && !prevMatch && len(res) > 0 {
				res[len(res)-1].a = m.start
			} else {
				res = append(res, piece{m.start, m.end, false})
			}
			prevMatch = m.match
		}
		for i, j := 0, len(res)-1; i < j; i, j = i+1, j-1 {
			res[i], res[j] = res[j], res[i]
		}
	}
	for _, p := range res {
		if !p.remove && p.a < p.b {
			out = append(out, [2]int{lo + p.a, lo + p.b})
		}
	}
	return out
}
