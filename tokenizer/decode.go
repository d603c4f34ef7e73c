package tokenizer

import (
	"fmt"
	"unicode/utf8"
)

// Decode returns the text of ids, as Hugging Face's tokenizer.decode(ids,
// skip_special_tokens=skipSpecial) for Qwen (clean_up_tokenization_spaces false): each
// id's piece is turned back into bytes by the ByteLevel decoder (a piece with a code point
// outside the byte map stands for its own UTF-8 bytes), the bytes of all ids are joined
// and invalid UTF-8 is replaced as String::from_utf8_lossy does (one U+FFFD per maximal
// ill-formed subsequence). skipSpecial drops the added tokens marked special only.
// An unknown id is an error (tokenizers would silently drop it).
func (t *Tokenizer) Decode(ids []int32, skipSpecial bool) (string, error) {
	b, err := t.appendDecodedBytes(make([]byte, 0, 4*len(ids)), ids, skipSpecial)
	if err != nil {
		return "", err
	}
	if utf8.Valid(b) {
		return string(b), nil
	}
	return string(appendLossy(make([]byte, 0, len(b)+8), b)), nil
}

func (t *Tokenizer) appendDecodedBytes(dst []byte, ids []int32, skipSpecial bool) ([]byte, error) {
	for i, id := range ids {
		if !t.has(id) {
			return nil, fmt.Errorf("tokenizer: %s: decode: unknown id %d at index %d", t.name, id, i)
		}
		if skipSpecial && t.special[id] {
			continue
		}
		dst = append(dst, t.dec[t.decOff[id]:t.decOff[id+1]]...)
	}
	return dst, nil
}
