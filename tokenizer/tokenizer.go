package tokenizer

import (
	"github.com/qwen3vl/qwen3vl/tokenizer/internal/pattern"
)

// Tokenizer is a loaded byte-level BPE tokenizer. It is safe for concurrent use.
type Tokenizer struct {
	name string // the tokenizer.json path or name, for errors

	norms  []int       // normalizers in order (normNFC, …)
	splits []splitStep // the Split steps of the pre-tokenizer, in order

	// BPE model.
	vocab        map[string]int32 // model piece (byte-level form) → id
	merges       *pairTable       // left<<32|right → rank<<32|merged id
	byteID       [256]int32       // id of each byte's byte-level character, -1 if absent
	ignoreMerges bool

	// All ids (model and added).
	pieces  []string // id → piece ("" where unknown, see known)
	known   []bool   // id → present
	special []bool   // id → dropped by skip_special_tokens
	count   int      // number of known ids
	decOff  []int32  // id → start in dec; decOff[id+1] its end
	dec     []byte   // decoded bytes of every id, concatenated

	// Added tokens.
	added          []addedToken
	addedByContent map[string]int32
	rawMatch       *matcher // normalized: false tokens, matched on the raw text
	normMatch      *matcher // normalized: true tokens, matched on normalized segments
	splitSpecial   bool     // tokenizer_config split_special_tokens: do not extract special tokens

	specials Specials
	pool     encoderPool
}

// splitStep is one Split pre-tokenizer.
type splitStep struct {
	re       *pattern.Regexp
	behavior int
	invert   bool
}

// Len returns the number of ids in the vocabulary, added tokens included (151,669 for
// Qwen3-VL, whose ids are dense from 0).
func (t *Tokenizer) Len() int { return t.count }

// Piece returns the string of id as convert_ids_to_tokens gives it: a model piece in
// byte-level form (e.g. "Ġhello" for " hello") or an added token's content.
func (t *Tokenizer) Piece(id int32) (string, bool) {
	if !t.has(id) {
		return "", false
	}
	return t.pieces[id], true
}

// ID returns the id of a piece: an added token's content first, then a model piece in
// byte-level form (convert_tokens_to_ids).
func (t *Tokenizer) ID(piece string) (int32, bool) {
	if id, ok := t.addedByContent[piece]; ok {
		return id, true
	}
	id, ok := t.vocab[piece]
	return id, ok
}

// Special reports whether id is dropped by Decode with skipSpecial: an added token marked
// "special": true (or any id whose piece equals such a token's content).
func (t *Tokenizer) Special(id int32) bool { return t.has(id) && t.special[id] }

func (t *Tokenizer) has(id int32) bool {
	return id >= 0 && int(id) < len(t.known) && t.known[id]
}

// Specials returns the special ids (see Specials).
func (t *Tokenizer) Specials() Specials {
	s := t.specials
	s.EOS = append([]int32(nil), s.EOS...)
	return s
}

// encoderPool is a free list of encoders. Unlike sync.Pool it is not emptied by garbage
// collection, so the encoders' merge caches survive between calls.
type encoderPool struct {
	free chan *encoder
	New  func() any
}

func (p *encoderPool) Get() any {
	select {
	case e := <-p.free:
		return e
	default:
		return p.New()
	}
}

func (p *encoderPool) Put(e any) {
	select {
	case p.free <- e.(*encoder):
	default:
	}
}
