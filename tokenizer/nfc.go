package tokenizer

import (
	"sort"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The reference NFC (tokenizers 0.23.3's normalizer) differs from x/text/unicode/norm
// (Unicode 15.0) in three ways, all measured by the code-point sweep in
// testdata/tokenizer/*.codepoints.json:
//
//   - it knows older Unicode data, in which the marks in refStarters have canonical
//     combining class 0 (they are starters: they block reordering and composition);
//   - it does not compose U+11935 U+11930 into U+11938;
//   - it reorders a run of combining marks of any length, where x/text stops sorting after
//     30 marks (the Stream-Safe Text Format).
//
// So NFC here is its own implementation of the standard algorithm (full canonical
// decomposition, canonical ordering, canonical composition) that takes the decompositions
// and combining classes from x/text, with those corrections. Text that passes a quick
// check is returned as it is.

// refStarters are the code points with a non-zero combining class in Unicode 15.0 that the
// reference treats as class 0.
var refStarters = map[rune]bool{}

func init() {
	for _, r := range []rune{0x7FD, 0x9FE, 0xC3C, 0xD3B, 0xD3C, 0xEBA, 0x1715, 0xA82C, 0x11070,
		0x1133B, 0x1145E, 0x11839, 0x1183A, 0x1193D, 0x1193E, 0x11943, 0x119E0, 0x11A34, 0x11A47,
		0x11A99, 0x11D42, 0x11D44, 0x11D45, 0x11D97, 0x11F41, 0x11F42, 0x16FF0, 0x16FF1, 0x1E08F,
		0x1E2AE, 0x10EAB, 0x10EAC} {
		refStarters[r] = true
	}
	for _, rg := range [][2]rune{{0x898, 0x89F}, {0x8CA, 0x8D3}, {0x1ABF, 0x1ACE}, {0x1DF6, 0x1DFA},
		{0x10D24, 0x10D27}, {0x10EFD, 0x10EFF}, {0x10F46, 0x10F50}, {0x10F82, 0x10F85},
		{0x1E130, 0x1E136}, {0x1E2EC, 0x1E2EF}, {0x1E4EC, 0x1E4EF}} {
		for r := rg[0]; r <= rg[1]; r++ {
			refStarters[r] = true
		}
	}
}

var (
	starterOnce sync.Once
	bmpStarter  []uint64 // bit r set: r < 0x10000 has class 0 for the reference
)

func buildStarters() {
	bmpStarter = make([]uint64, 1024)
	for r := rune(0); r < 0x10000; r++ {
		if r < 0x300 || (r >= 0xD800 && r < 0xE000) || refStarters[r] || norm.NFC.PropertiesString(string(r)).CCC() == 0 {
			bmpStarter[r>>6] |= 1 << (uint(r) & 63)
		}
	}
}

// ccc is the reference canonical combining class of r.
func ccc(r rune) uint8 {
	if r < 0x300 {
		return 0
	}
	if r < 0x10000 {
		starterOnce.Do(buildStarters)
		if bmpStarter[r>>6]&(1<<(uint(r)&63)) != 0 {
			return 0
		}
	}
	if refStarters[r] {
		return 0
	}
	return norm.NFC.PropertiesString(string(r)).CCC()
}

// Hangul syllable constants.
const (
	hangulS, hangulL, hangulV, hangulT = 0xAC00, 0x1100, 0x1161, 0x11A7
	hangulLCount, hangulVCount         = 19, 21
	hangulTCount                       = 28
	hangulN                            = hangulVCount * hangulTCount
	hangulSCount                       = hangulLCount * hangulN
)

var (
	composeOnce sync.Once
	composeMap  map[uint64]rune // first<<32|second → primary composite
)

// buildCompose derives the canonical composition pairs from x/text: every code point that
// NFC keeps and NFD decomposes into more than one code point is the composite of (the NFC
// of all but the last code point of its decomposition, the last one), checked by
// composing the pair back with x/text.
func buildCompose() {
	composeMap = make(map[uint64]rune, 1024)
	var buf [4]byte
	for r := rune(0xC0); r <= 0x10FFFF; r++ {
		if (r >= 0xD800 && r < 0xE000) || (r >= hangulS && r < hangulS+hangulSCount) {
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		s := string(buf[:n])
		d := norm.NFD.PropertiesString(s).Decomposition()
		if d == nil || norm.NFC.String(s) != s {
			continue
		}
		last, w := utf8.DecodeLastRune(d)
		if w == len(d) {
			continue
		}
		first := norm.NFC.String(string(d[:len(d)-w]))
		f, fw := utf8.DecodeRuneInString(first)
		if fw != len(first) || norm.NFC.String(first+string(last)) != s {
			continue
		}
		if f == 0x11935 && last == 0x11930 {
			continue // not composed by the reference
		}
		composeMap[uint64(f)<<32|uint64(last)] = r
	}
}

// quickNFC reports whether s is certainly unchanged by the reference NFC: x/text's quick check passes it
// whole and its combining marks are in order by the reference classes (x/text checks
// only 30 at a time).
func quickNFC(s string) bool {
	i := 0
	for i < len(s) && s[i] < 0xCC { // below U+0300: class 0, stable, never combines back
		i++
	}
	if i == len(s) {
		return true
	}
	if norm.NFC.QuickSpanString(s) != len(s) {
		return false
	}
	last := uint8(0)
	for _, r := range s[i:] {
		cc := ccc(r)
		if cc != 0 && cc < last {
			return false
		}
		last = cc
	}
	return true
}

// nfc is the reference NFC of s. The text is cut before every ASCII character (a starter
// that never composes with what precedes it, so normalization never crosses it) and only
// the pieces that fail the quick check go through the full algorithm.
func nfc(s string) string {
	if quickNFC(s) {
		return s
	}
	var out []byte
	done := 0
	for start := 0; start < len(s); {
		end := start + 1
		for end < len(s) && s[end] >= utf8.RuneSelf {
			end++
		}
		if end-start > 1 && !quickNFC(s[start:end]) {
			out = append(out, s[done:start]...)
			out = append(out, nfcFull(s[start:end])...)
			done = end
		}
		start = end
	}
	out = append(out, s[done:]...)
	return string(out)
}

// nfcFull is the full NFC algorithm.
func nfcFull(s string) string {
	composeOnce.Do(buildCompose)
	// 1. Full canonical decomposition.
	rs := make([]rune, 0, len(s))
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		if r >= hangulS && r < hangulS+hangulSCount {
			x := r - hangulS
			rs = append(rs, hangulL+x/hangulN, hangulV+(x%hangulN)/hangulTCount)
			if t := x % hangulTCount; t != 0 {
				rs = append(rs, hangulT+t)
			}
			continue
		}
		if r >= 0xC0 {
			if d := norm.NFD.PropertiesString(s[i-w : i]).Decomposition(); d != nil {
				for _, x := range string(d) {
					rs = append(rs, x)
				}
				continue
			}
		}
		rs = append(rs, r)
	}
	// 2. Canonical ordering: stable sort of each run of non-starters by class.
	cls := make([]uint8, len(rs))
	for i, r := range rs {
		cls[i] = ccc(r)
	}
	for i := 0; i < len(rs); {
		if cls[i] == 0 {
			i++
			continue
		}
		j := i
		for j < len(rs) && cls[j] != 0 {
			j++
		}
		if j-i > 1 {
			run := runSorter{rs[i:j], cls[i:j]}
			sort.Stable(run)
		}
		i = j
	}
	// 3. Canonical composition.
	starter := -1
	out := rs[:0]
	outCls := cls[:0]
	for k := 0; k < len(rs); k++ {
		r, cc := rs[k], cls[k]
		if starter >= 0 {
			lastCC := outCls[len(outCls)-1]
			blocked := len(out)-1 != starter && (lastCC == 0 || lastCC >= cc)
			if !blocked {
				if c, ok := compose(out[starter], r); ok {
					out[starter] = c
					continue
				}
			}
		}
		out = append(out, r)
		outCls = append(outCls, cc)
		if cc == 0 {
			starter = len(out) - 1
		}
	}
	return string(out)
}

func compose(a, b rune) (rune, bool) {
	if a >= hangulL && a < hangulL+hangulLCount && b >= hangulV && b < hangulV+hangulVCount {
		return hangulS + ((a-hangulL)*hangulVCount+(b-hangulV))*hangulTCount, true
	}
	if a >= hangulS && a < hangulS+hangulSCount && (a-hangulS)%hangulTCount == 0 &&
		b > hangulT && b < hangulT+hangulTCount {
		return a + (b - hangulT), true
	}
	c, ok := composeMap[uint64(a)<<32|uint64(b)]
	return c, ok
}

type runSorter struct {
	r []rune
	c []uint8
}

func (s runSorter) Len() int           { return len(s.r) }
func (s runSorter) Less(i, j int) bool { return s.c[i] < s.c[j] }
func (s runSorter) Swap(i, j int) {
	s.r[i], s.r[j] = s.r[j], s.r[i]
	s.c[i], s.c[j] = s.c[j], s.c[i]
}
