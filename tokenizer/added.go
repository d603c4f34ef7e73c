package tokenizer

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// addedToken is one entry of tokenizer.json's added_tokens.
type addedToken struct {
	id                         int32
	content                    string
	singleWord, lstrip, rstrip bool
	normalized, special        bool
}

// setAdded installs the added tokens: their ids, pieces, the two matchers and the decode
// table.
func (t *Tokenizer) setAdded(list []addedJSON) error {
	limit := int64(2*(len(t.vocab)+len(list)) + 1024)
	t.addedByContent = make(map[string]int32, len(list))
	seen := map[int32]bool{}
	for i, a := range list {
		if a.ID == nil {
			return fmt.Errorf("entry %d (%q): no id", i, a.Content)
		}
		id := *a.ID
		if id < 0 || id >= limit {
			return fmt.Errorf("entry %d (%q): id %d out of range", i, a.Content, id)
		}
		if seen[int32(id)] {
			return fmt.Errorf("entry %d (%q): duplicate id %d", i, a.Content, id)
		}
		seen[int32(id)] = true
		t.added = append(t.added, addedToken{id: int32(id), content: a.Content, singleWord: a.SingleWord,
			lstrip: a.LStrip, rstrip: a.RStrip, normalized: a.Normalized, special: a.Special})
	}
	return t.rebuild()
}

// rebuild recomputes the id tables, the matchers and the decode table from t.vocab and
// t.added.
func (t *Tokenizer) rebuild() error {
	maxID := len(t.pieces) - 1
	for _, a := range t.added {
		maxID = max(maxID, int(a.id))
	}
	for len(t.pieces) <= maxID {
		t.pieces = append(t.pieces, "")
		t.known = append(t.known, false)
	}
	// Restore model pieces first (an added token may shadow one).
	for p, id := range t.vocab {
		t.pieces[id], t.known[id] = p, true
	}
	specialSet := map[string]bool{}
	decodeForm := make(map[int32]string)
	var raw, normd []addedToken
	clear(t.addedByContent)
	for _, a := range t.added {
		t.pieces[a.id], t.known[a.id] = a.content, true
		t.addedByContent[a.content] = a.id
		if a.special {
			specialSet[a.content] = true
		}
		if a.content == "" {
			continue
		}
		if a.normalized {
			nc := t.normalize(a.content)
			decodeForm[a.id] = nc
			a.content = nc
			normd = append(normd, a)
		} else {
			raw = append(raw, a)
		}
	}
	t.rawMatch = newMatcher(raw)
	t.normMatch = newMatcher(normd)
	t.count = 0
	t.special = make([]bool, len(t.pieces))
	t.decOff = make([]int32, len(t.pieces)+1)
	t.dec = t.dec[:0]
	for id := range t.pieces {
		t.decOff[id] = int32(len(t.dec))
		if !t.known[id] {
			continue
		}
		t.count++
		tok := t.pieces[id]
		if f, ok := decodeForm[int32(id)]; ok {
			tok = f
		}
		t.special[id] = specialSet[tok]
		t.dec = append(t.dec, unByteLevel(tok)...)
	}
	t.decOff[len(t.pieces)] = int32(len(t.dec))
	return nil
}

// normalize applies the normalizers to s.
func (t *Tokenizer) normalize(s string) string {
	for _, n := range t.norms {
		var f norm.Form
		switch n {
		case normNFC:
			s = nfc(s)
			continue
		case normNFD:
			f = norm.NFD
		case normNFKC:
			f = norm.NFKC
		case normNFKD:
			f = norm.NFKD
		default:
			continue
		}
		if !f.IsNormalString(s) {
			s = f.String(s)
		}
	}
	return s
}

// matcher finds added tokens, leftmost first and then longest (aho-corasick's
// LeftmostLongest), by a table of the tokens that start with each byte.
type matcher struct {
	byFirst [256][]addedToken // longest first
}

func newMatcher(tokens []addedToken) *matcher {
	if len(tokens) == 0 {
		return nil
	}
	m := &matcher{}
	for _, a := range tokens {
		m.byFirst[a.content[0]] = append(m.byFirst[a.content[0]], a)
	}
	for b := range m.byFirst {
		l := m.byFirst[b]
		sort.SliceStable(l, func(i, j int) bool { return len(l[i].content) > len(l[j].content) })
	}
	return m
}

// find returns the leftmost-longest token occurrence in s at or after from.
func (m *matcher) find(s string, from int) (start, end int, tok *addedToken, ok bool) {
	for i := from; i < len(s); i++ {
		cands := m.byFirst[s[i]]
		for k := range cands {
			if strings.HasPrefix(s[i:], cands[k].content) {
				return i, i + len(cands[k].content), &cands[k], true
			}
		}
	}
	return 0, 0, nil, false
}

// isWordRune is the \w of Rust's regex crate (Alphabetic, M, Nd, Pc, Join_Control).
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) ||
		unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) ||
		r == 0x200C || r == 0x200D
}

// splitAdded walks the added-token matches of s as tokenizers' find_matches does (with
// single_word, lstrip and rstrip), calling seg for each text segment between them and tok
// for each token. skipSpecial leaves special tokens in the text (split_special_tokens).
func (m *matcher) splitAdded(s string, skipSpecial bool, seg func(string), tok func(int32)) {
	if m == nil {
		seg(s)
		return
	}
	from, startOffset := 0, 0
	for {
		st, en, a, ok := m.find(s, from)
		if !ok {
			break
		}
		from = en
		if skipSpecial && a.special {
			continue
		}
		if a.singleWord {
			startSpace := st == 0
			if !startSpace {
				r, _ := utf8.DecodeLastRuneInString(s[:st])
				startSpace = !isWordRune(r)
			}
			stopSpace := en == len(s)
			if !stopSpace {
				r, _ := utf8.DecodeRuneInString(s[en:])
				stopSpace = !isWordRune(r)
			}
			if !startSpace || !stopSpace {
				continue
			}
		}
		if a.lstrip {
			ns := len(strings.TrimRightFunc(s[:st], unicode.IsSpace))
			st = max(ns, startOffset)
		}
		if a.rstrip {
			en += len(s[en:]) - len(strings.TrimLeftFunc(s[en:], unicode.IsSpace))
		}
		if startOffset < st {
			seg(s[startOffset:st])
		}
		tok(a.id)
		startOffset = en
	}
	if startOffset < len(s) {
		seg(s[startOffset:])
	}
}
