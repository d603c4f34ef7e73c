package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Bounds of the BPE merge cache (as tokenizers: 10,000 words, each under 256 bytes).
const (
	cacheWords   = 10000
	cacheMaxWord = 256
	// scanMax is the longest word merged by scanning; longer words use a heap.
	scanMax = 48
)

func (t *Tokenizer) parseModel(m *modelJSON) error {
	if m.Type != "" && m.Type != "BPE" {
		return fmt.Errorf("unsupported type %q", m.Type)
	}
	if m.Dropout != nil && *m.Dropout != 0 {
		return errors.New("dropout unsupported")
	}
	if m.UnkToken != nil {
		return errors.New("unk_token unsupported (must be null)")
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		return errors.New("continuing_subword_prefix unsupported (must be empty)")
	}
	if m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "" {
		return errors.New("end_of_word_suffix unsupported (must be empty)")
	}
	if m.ByteFallback {
		return errors.New("byte_fallback unsupported")
	}
	if m.Vocab == nil {
		return errors.New("vocab: missing")
	}
	t.ignoreMerges = m.IgnoreMerges
	t.vocab = make(map[string]int32, len(m.Vocab))
	maxID := int64(-1)
	for p, id := range m.Vocab {
		if id < 0 || id > math.MaxInt32 {
			return fmt.Errorf("vocab: id %d of %q out of range", id, p)
		}
		maxID = max(maxID, id)
	}
	if maxID >= int64(2*len(m.Vocab)+1024) {
		return fmt.Errorf("vocab: ids too sparse (largest %d for %d pieces)", maxID, len(m.Vocab))
	}
	t.pieces = make([]string, maxID+1)
	t.known = make([]bool, maxID+1)
	for p, id := range m.Vocab {
		if t.known[id] {
			a, b := t.pieces[id], p
			if a > b {
				a, b = b, a
			}
			return fmt.Errorf("vocab: duplicate id %d (%q and %q)", id, a, b)
		}
		t.known[id] = true
		t.pieces[id] = p
		t.vocab[p] = int32(id)
	}
	var buf [4]byte
	for b := range t.byteID {
		n := utf8.EncodeRune(buf[:], byteRune[b])
		if id, ok := t.vocab[string(buf[:n])]; ok {
			t.byteID[b] = id
		} else {
			t.byteID[b] = -1
		}
	}
	return t.parseMerges(m.Merges)
}

// parseMerges reads merges as [["a","b"], …] or ["a b", …]; rank is the index. A later
// duplicate pair replaces an earlier one, as in tokenizers.
func (t *Tokenizer) parseMerges(raw json.RawMessage) error {
	if isNull(raw) {
		return errors.New("merges: missing")
	}
	if done, err := t.parseMergePairs(raw); done {
		return err
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		var lines []string
		if err2 := json.Unmarshal(raw, &lines); err2 != nil {
			return fmt.Errorf("merges: %v", err)
		}
		pairs = make([][]string, len(lines))
		for i, l := range lines {
			parts := strings.Split(l, " ")
			if len(parts) != 2 {
				return fmt.Errorf("merges: entry %d %q is not two pieces", i, l)
			}
			pairs[i] = parts
		}
	}
	if len(pairs) > math.MaxInt32 {
		return errors.New("merges: too many")
	}
	t.merges = newPairTable(len(pairs))
	for i, p := range pairs {
		if len(p) != 2 {
			return fmt.Errorf("merges: entry %d has %d pieces, want 2", i, len(p))
		}
		a, ok := t.vocab[p[0]]
		if !ok {
			return fmt.Errorf("merges: entry %d: %q not in the vocab", i, p[0])
		}
		b, ok := t.vocab[p[1]]
		if !ok {
			return fmt.Errorf("merges: entry %d: %q not in the vocab", i, p[1])
		}
		n, ok := t.vocab[p[0]+p[1]]
		if !ok {
			return fmt.Errorf("merges: entry %d: merged %q not in the vocab", i, p[0]+p[1])
		}
		t.merges.put(pairKey(a, b), uint64(i)<<32|uint64(uint32(n)))
	}
	return nil
}

// parseMergePairs reads merges in the [["a","b"], …] form straight from the JSON bytes,
// without building a string per piece (the slow general decoder is used otherwise). done is
// false when raw is not in that form.
func (t *Tokenizer) parseMergePairs(raw []byte) (done bool, err error) {
	i := 0
	ws := func() {
		for i < len(raw) && (raw[i] == ' ' || raw[i] == '\n' || raw[i] == '\t' || raw[i] == '\r') {
			i++
		}
	}
	expect := func(c byte) bool {
		ws()
		if i < len(raw) && raw[i] == c {
			i++
			return true
		}
		return false
	}
	var scratch [2][]byte
	str := func(k int) ([]byte, bool) {
		ws()
		if i >= len(raw) || raw[i] != '"' {
			return nil, false
		}
		j := i + 1
		escaped := false
		for j < len(raw) && raw[j] != '"' {
			if raw[j] == '\\' {
				escaped = true
				j++
			} else if raw[j] < 0x20 {
				return nil, false
			}
			j++
		}
		if j >= len(raw) {
			return nil, false
		}
		tok := raw[i : j+1]
		i = j + 1
		if !escaped {
			return tok[1 : len(tok)-1], true
		}
		var s string
		if json.Unmarshal(tok, &s) != nil {
			return nil, false
		}
		scratch[k] = append(scratch[k][:0], s...)
		return scratch[k], true
	}
	if !expect('[') {
		return false, nil
	}
	ws()
	if i < len(raw) && raw[i] != '[' && raw[i] != ']' {
		return false, nil // the "a b" string form
	}
	// Count the entries for the table size: one '[' per pair (a '[' inside a piece does not
	// matter for sizing).
	n := bytes.Count(raw, []byte("],")) + 1
	t.merges = newPairTable(n)
	var cat []byte
	if expect(']') {
		return true, nil
	}
	for rank := 0; ; rank++ {
		if rank > math.MaxInt32 {
			return true, errors.New("merges: too many")
		}
		if !expect('[') {
			return true, fmt.Errorf("merges: entry %d is not a pair of strings", rank)
		}
		a, ok1 := str(0)
		okComma := expect(',')
		b, ok2 := str(1)
		if !ok1 || !okComma || !ok2 || !expect(']') {
			return true, fmt.Errorf("merges: entry %d is not a pair of strings", rank)
		}
		ia, ok := t.vocab[string(a)]
		if !ok {
			return true, fmt.Errorf("merges: entry %d: %q not in the vocab", rank, a)
		}
		ib, ok := t.vocab[string(b)]
		if !ok {
			return true, fmt.Errorf("merges: entry %d: %q not in the vocab", rank, b)
		}
		cat = append(append(cat[:0], a...), b...)
		in, ok := t.vocab[string(cat)]
		if !ok {
			return true, fmt.Errorf("merges: entry %d: merged %q not in the vocab", rank, cat)
		}
		t.merges.put(pairKey(ia, ib), uint64(rank)<<32|uint64(uint32(in)))
		if expect(']') {
			ws()
			if i != len(raw) {
				return true, errors.New("merges: trailing data")
			}
			return true, nil
		}
		if !expect(',') {
			return true, fmt.Errorf("merges: entry %d: expected ',' or ']'", rank)
		}
	}
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// symbol is one symbol of a word being merged: a doubly linked list over a slice.
type symbol struct {
	id         int32
	prev, next int32 // -1 at the ends
	rank       int32 // rank of the merge with next (scan path), math.MaxInt32 if none
	merged     int32 // id of that merge
	gone       bool  // merged into its left neighbour
}

// mergeItem is a heap entry: merge the symbol at pos with its next at rank into id.
type mergeItem struct {
	rank, pos, id int32
}

// bpe appends the ids of one pre-token (raw bytes, already normalized) to dst.
func (t *Tokenizer) bpe(e *encoder, word string, dst []int32) []int32 {
	if t.ignoreMerges {
		e.bl = appendByteLevel(e.bl[:0], word)
		if id, ok := t.vocab[string(e.bl)]; ok {
			return append(dst, id)
		}
	}
	if len(word) < cacheMaxWord {
		if ids, ok := e.cache[word]; ok {
			return append(dst, ids...)
		}
	}
	start := len(dst)
	dst = t.merge(e, word, dst)
	if len(word) < cacheMaxWord && len(e.cache) < cacheWords {
		e.cache[strings.Clone(word)] = append([]int32(nil), dst[start:]...) // no hold on the caller's text
	}
	return dst
}

// merge runs the BPE merge loop on word: repeatedly merge the adjacent pair of lowest
// rank, the leftmost on ties (tokenizers' Word::merge_all without dropout).
func (t *Tokenizer) merge(e *encoder, word string, dst []int32) []int32 {
	syms := e.syms[:0]
	for i := 0; i < len(word); i++ {
		if id := t.byteID[word[i]]; id >= 0 {
			n := int32(len(syms))
			syms = append(syms, symbol{id: id, prev: n - 1, next: n + 1})
		}
	}
	if len(syms) == 0 {
		e.syms = syms
		return dst
	}
	syms[len(syms)-1].next = -1
	e.syms = syms
	if len(syms) <= scanMax && !e.forceHeap {
		t.mergeScan(syms)
	} else {
		t.mergeHeap(e, syms)
	}
	for i := int32(0); i >= 0; i = syms[i].next {
		dst = append(dst, syms[i].id)
	}
	return dst
}

func (t *Tokenizer) setRank(syms []symbol, i int32) {
	s := &syms[i]
	s.rank = math.MaxInt32
	if s.next < 0 {
		return
	}
	if v, ok := t.merges.get(pairKey(s.id, syms[s.next].id)); ok {
		s.rank, s.merged = int32(v>>32), int32(uint32(v))
	}
}

// mergeScan is the merge loop for short words: each step scans the list for the lowest
// rank.
func (t *Tokenizer) mergeScan(syms []symbol) {
	for i := range syms {
		t.setRank(syms, int32(i))
	}
	for {
		best, at := int32(math.MaxInt32), int32(-1)
		for i := int32(0); i >= 0; i = syms[i].next {
			if syms[i].rank < best {
				best, at = syms[i].rank, i
			}
		}
		if at < 0 {
			return
		}
		s := &syms[at]
		nx := s.next
		s.id = s.merged
		s.next = syms[nx].next
		syms[nx].gone = true
		if s.next >= 0 {
			syms[s.next].prev = at
		}
		t.setRank(syms, at)
		if s.prev >= 0 {
			t.setRank(syms, s.prev)
		}
	}
}

// mergeHeap is the merge loop for long words, with a min-heap on (rank, position) and
// lazy deletion of stale entries, as tokenizers does.
func (t *Tokenizer) mergeHeap(e *encoder, syms []symbol) {
	h := e.heap[:0]
	for i := 0; i+1 < len(syms); i++ {
		if v, ok := t.merges.get(pairKey(syms[i].id, syms[i+1].id)); ok {
			h = append(h, mergeItem{rank: int32(v >> 32), pos: int32(i), id: int32(uint32(v))})
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(h, i)
	}
	for len(h) > 0 {
		top := h[0]
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		if last > 0 {
			down(h, 0)
		}
		s := &syms[top.pos]
		if s.gone || s.next < 0 {
			continue
		}
		nx := s.next
		if v, ok := t.merges.get(pairKey(s.id, syms[nx].id)); !ok || int32(uint32(v)) != top.id {
			continue
		}
		s.id = top.id
		s.next = syms[nx].next
		syms[nx].gone = true
		if s.next >= 0 {
			syms[s.next].prev = top.pos
		}
		if s.prev >= 0 {
			if v, ok := t.merges.get(pairKey(syms[s.prev].id, s.id)); ok {
				h = push(h, mergeItem{rank: int32(v >> 32), pos: s.prev, id: int32(uint32(v))})
			}
		}
		if s.next >= 0 {
			if v, ok := t.merges.get(pairKey(s.id, syms[s.next].id)); ok {
				h = push(h, mergeItem{rank: int32(v >> 32), pos: top.pos, id: int32(uint32(v))})
			}
		}
	}
	e.heap = h
}

func less(a, b mergeItem) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

func down(h []mergeItem, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && less(h[r], h[l]) {
			m = r
		}
		if !less(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

func push(h []mergeItem, x mergeItem) []mergeItem {
	h = append(h, x)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

// pairTable is an open-addressing hash table from a merge pair (left<<32|right) to
// rank<<32|merged id, with linear probing; faster than a Go map for this hot lookup.
type pairTable struct {
	slots []pairSlot
	shift uint
	n     int
}

type pairSlot struct{ key, val uint64 }

// emptyKey marks a free slot; no pair of int32 ids has it.
const emptyKey = ^uint64(0)

func newPairTable(n int) *pairTable {
	bits := uint(4)
	for 1<<bits < 2*n {
		bits++
	}
	p := &pairTable{slots: make([]pairSlot, 1<<bits), shift: 64 - bits}
	for i := range p.slots {
		p.slots[i].key = emptyKey
	}
	return p
}

func (p *pairTable) slot(key uint64) int { return int((key * 0x9E3779B97F4A7C15) >> p.shift) }

// put sets key to val (replacing an earlier value).
func (p *pairTable) put(key, val uint64) {
	mask := len(p.slots) - 1
	for i := p.slot(key); ; i = (i + 1) & mask {
		s := &p.slots[i]
		if s.key == key {
			s.val = val
			return
		}
		if s.key == emptyKey {
			s.key, s.val = key, val
			p.n++
			return
		}
	}
}

// get returns the value of key.
func (p *pairTable) get(key uint64) (uint64, bool) {
	mask := len(p.slots) - 1
	for i := p.slot(key); ; i = (i + 1) & mask {
		s := &p.slots[i]
		if s.key == key {
			return s.val, true
		}
		if s.key == emptyKey {
			return 0, false
		}
	}
}

// each calls f for every entry.
func (p *pairTable) each(f func(key, val uint64)) {
	for _, s := range p.slots {
		if s.key != emptyKey {
			f(s.key, s.val)
		}
	}
}
