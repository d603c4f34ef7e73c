package tokenizer

import "unicode/utf8"

// byteRune is GPT-2's bytes_to_unicode map: every byte as a printable code point. The
// printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') map to themselves; the other 68
// bytes, in increasing order, map to U+0100, U+0101, … (so a space, 0x20, is 'Ġ' U+0120).
var byteRune [256]rune

// runeByte is the inverse of byteRune for code points below 0x200 (-1 where none maps).
var runeByte [0x200]int16

func init() {
	n := rune(0)
	for b := 0; b < 256; b++ {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			byteRune[b] = rune(b)
		} else {
			byteRune[b] = 0x100 + n
			n++
		}
	}
	for i := range runeByte {
		runeByte[i] = -1
	}
	for b, r := range byteRune {
		runeByte[r] = int16(b)
	}
}

// appendByteLevel appends the byte-level form of s (each byte as byteRune) to dst.
func appendByteLevel(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = utf8.AppendRune(dst, byteRune[s[i]])
	}
	return dst
}

// unByteLevel returns the bytes a piece stands for, as tokenizers' ByteLevel decoder does:
// if every code point of the piece is in the byte map, the mapped bytes; otherwise the
// piece's own UTF-8 bytes.
func unByteLevel(piece string) []byte {
	out := make([]byte, 0, len(piece))
	for _, r := range piece {
		if r >= 0x200 || runeByte[r] < 0 {
			return []byte(piece)
		}
		out = append(out, byte(runeByte[r]))
	}
	return out
}

// appendLossy appends b to dst as valid UTF-8, replacing each maximal ill-formed
// subsequence by one U+FFFD, as Rust's String::from_utf8_lossy does (the Unicode
// "substitution of maximal subparts" practice).
func appendLossy(dst []byte, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			dst = append(dst, c)
			i++
			continue
		}
		if r, w := utf8.DecodeRune(b[i:]); r != utf8.RuneError || w > 1 {
			dst = append(dst, b[i:i+w]...)
			i += w
			continue
		}
		// Ill-formed: consume the longest prefix of a valid sequence starting at i.
		need, lo, hi := 0, byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c == 0xE0:
			need, lo = 2, 0xA0
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			need = 2
		case c == 0xED:
			need, hi = 2, 0x9F
		case c == 0xF0:
			need, lo = 3, 0x90
		case c >= 0xF1 && c <= 0xF3:
			need = 3
		case c == 0xF4:
			need, hi = 3, 0x8F
		}
		j := i + 1
		for k := 0; k < need && j < len(b); k++ {
			if b[j] < lo || b[j] > hi {
				break
			}
			lo, hi = 0x80, 0xBF
			j++
		}
		dst = append(dst, "\uFFFD"...)
		i = j
	}
	return dst
}
