package pattern

import (
	"unicode"
)

// tableItem is one \p{…}-like member of a class: code points in table (or not in it, when
// neg).
type tableItem struct {
	table *unicode.RangeTable
	neg   bool
}

// Class is a set of code points: the union of ranges and table items, complemented when
// negate. After freeze, ascii and bmp hold the membership of every code point below 0x80
// and 0x10000; astral code points are evaluated from ranges and tables.
type Class struct {
	ranges []rune // pairs lo, hi (inclusive)
	tables []tableItem
	negate bool

	ascii [2]uint64
	bmp   []uint64 // 1024 words
}

// eval decides membership from the definition (slow path, also used to fill the bitmaps).
func (c *Class) eval(r rune) bool {
	in := false
	for i := 0; i+1 < len(c.ranges); i += 2 {
		if c.ranges[i] <= r && r <= c.ranges[i+1] {
			in = true
			break
		}
	}
	if !in {
		for _, t := range c.tables {
			if unicode.Is(t.table, r) != t.neg {
				in = true
				break
			}
		}
	}
	return in != c.negate
}

// freeze fills the bitmaps. A class of ranges alone (a literal, say) gets only the ASCII
// bitmap and evaluates other code points from its ranges; a class with tables or negation
// gets the BMP bitmap, built range by range.
func (c *Class) freeze() {
	if len(c.tables) == 0 && !c.negate {
		for r := rune(0); r < 0x80; r++ {
			if c.eval(r) {
				c.ascii[r>>6] |= 1 << (uint(r) & 63)
			}
		}
		return
	}
	bits := make([]uint64, 1024)
	for i := 0; i+1 < len(c.ranges); i += 2 {
		setRange(bits, c.ranges[i], c.ranges[i+1])
	}
	for _, t := range c.tables {
		tb := bits
		if t.neg {
			tb = make([]uint64, 1024)
		}
		for _, r := range t.table.R16 {
			if r.Stride == 1 {
				setRange(tb, rune(r.Lo), rune(r.Hi))
				continue
			}
			for x := rune(r.Lo); x <= rune(r.Hi); x += rune(r.Stride) {
				tb[x>>6] |= 1 << (uint(x) & 63)
			}
		}
		if t.neg {
			for i := range bits {
				bits[i] |= ^tb[i]
			}
		}
	}
	if c.negate {
		for i := range bits {
			bits[i] = ^bits[i]
		}
	}
	c.bmp = bits
	c.ascii[0], c.ascii[1] = bits[0], bits[1]
}

// setRange sets the bits of lo..hi (clipped to the BMP).
func setRange(bits []uint64, lo, hi rune) {
	hi = min(hi, 0xFFFF)
	for x := lo; x <= hi; x++ {
		if x&63 == 0 && x+63 <= hi {
			bits[x>>6] = ^uint64(0)
			x += 63
			continue
		}
		bits[x>>6] |= 1 << (uint(x) & 63)
	}
}

// Has reports whether r is in the class.
func (c *Class) Has(r rune) bool {
	if r < 0x80 {
		return c.ascii[r>>6]&(1<<(uint(r)&63)) != 0
	}
	if r < 0x10000 && c.bmp != nil {
		return c.bmp[r>>6]&(1<<(uint(r)&63)) != 0
	}
	return c.eval(r)
}

func (c *Class) addRange(lo, hi rune) { c.ranges = append(c.ranges, lo, hi) }

// addFolded adds r and its simple case-folding orbit.
func (c *Class) addFolded(r rune) {
	c.addRange(r, r)
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		c.addRange(f, f)
	}
}

// foldRanges adds the case-folding orbits of every code point in the ranges (for (?i)).
// Ranges wider than 0x3000 code points are left as they are.
func (c *Class) foldRanges() {
	n := len(c.ranges)
	for i := 0; i+1 < n; i += 2 {
		lo, hi := c.ranges[i], c.ranges[i+1]
		if hi-lo > 0x3000 {
			continue
		}
		for r := lo; r <= hi; r++ {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				if f < lo || f > hi {
					c.addRange(f, f)
				}
			}
		}
	}
}

// Unicode sets of the shorthand escapes (Oniguruma, UTF-8, no ASCII-range option).
var (
	spaceTable = unicode.White_Space
	digitTable = unicode.Nd
	wordTables = []*unicode.RangeTable{refL, refM, unicode.Nd, unicode.Pc}
	hexTable   = &unicode.RangeTable{R16: []unicode.Range16{{Lo: '0', Hi: '9', Stride: 1}, {Lo: 'A', Hi: 'F', Stride: 1}, {Lo: 'a', Hi: 'f', Stride: 1}}}
)

// propertyAliases maps long property names to Go's category names.
var propertyAliases = map[string]string{
	"letter": "L", "uppercaseletter": "Lu", "lowercaseletter": "Ll", "titlecaseletter": "Lt",
	"modifierletter": "Lm", "otherletter": "Lo", "mark": "M", "combiningmark": "M",
	"nonspacingmark": "Mn", "spacingmark": "Mc", "enclosingmark": "Me", "number": "N",
	"decimalnumber": "Nd", "letternumber": "Nl", "othernumber": "No", "punctuation": "P",
	"connectorpunctuation": "Pc", "dashpunctuation": "Pd", "openpunctuation": "Ps",
	"closepunctuation": "Pe", "initialpunctuation": "Pi", "finalpunctuation": "Pf",
	"otherpunctuation": "Po", "symbol": "S", "mathsymbol": "Sm", "currencysymbol": "Sc",
	"modifiersymbol": "Sk", "othersymbol": "So", "separator": "Z", "spaceseparator": "Zs",
	"lineseparator": "Zl", "paragraphseparator": "Zp", "other": "C", "control": "Cc",
	"format": "Cf", "privateuse": "Co", "surrogate": "Cs",
}

// lookupProperty resolves a \p{…} name (case-insensitive, ignoring spaces, '-' and '_' as
// Oniguruma does) to a table.
func lookupProperty(name string) *unicode.RangeTable {
	norm := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		b := name[i]
		switch {
		case b == ' ' || b == '-' || b == '_':
			continue
		case 'A' <= b && b <= 'Z':
			b += 'a' - 'A'
		}
		norm = append(norm, b)
	}
	key := string(norm)
	switch key {
	case "l", "letter":
		return refL
	case "n", "number":
		return refN
	case "m", "mark", "combiningmark":
		return refM
	}
	if a, ok := propertyAliases[key]; ok {
		return unicode.Categories[a]
	}
	for k, t := range unicode.Categories {
		if equalFoldASCII(k, key) {
			return t
		}
	}
	for k, t := range unicode.Scripts {
		if equalFoldASCII(k, key) {
			return t
		}
	}
	switch key {
	case "whitespace", "space":
		return unicode.White_Space
	}
	return nil
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
