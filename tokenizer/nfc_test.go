package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestNFCAgainstSweep checks nfc (and ccc) against the reference normalizer's measured
// behaviour: every code point alone, the non-zero combining classes, and the composition
// sequences of testdata/tokenizer/qwen3vl.codepoints.json.
func TestNFCAgainstSweep(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdata, "qwen3vl.codepoints.json"))
	if os.IsNotExist(err) {
		t.Skip("qwen3vl.codepoints.json absent")
	}
	if err != nil {
		t.Fatal(err)
	}
	var sweep struct {
		NFC     [][2]json.RawMessage `json:"nfc"`
		CCC     [][3]int             `json:"ccc"`
		Compose [][2]string          `json:"compose"`
	}
	if err := json.Unmarshal(data, &sweep); err != nil {
		t.Fatal(err)
	}
	want := map[rune]string{}
	for _, e := range sweep.NFC {
		var cp rune
		var s string
		if json.Unmarshal(e[0], &cp) != nil || json.Unmarshal(e[1], &s) != nil {
			t.Fatal("bad nfc entry")
		}
		want[cp] = s
	}
	refCCC := map[rune]uint8{}
	for _, r := range sweep.CCC {
		for c := r[0]; c <= r[1]; c++ {
			refCCC[rune(c)] = uint8(r[2])
		}
	}
	bad := 0
	report := func(format string, args ...any) {
		bad++
		if bad <= 10 {
			t.Errorf(format, args...)
		}
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue
		}
		s := string(r)
		w, ok := want[r]
		if !ok {
			w = s
		}
		if got := nfc(s); got != w {
			report("NFC(U+%04X) = %+q, reference %+q", r, got, w)
		}
		if !ok && ccc(r) != refCCC[r] {
			report("ccc(U+%04X) = %d, reference %d", r, ccc(r), refCCC[r])
		}
	}
	for _, c := range sweep.Compose {
		if got := nfc(c[0]); got != c[1] {
			report("NFC(%+q) = %+q, reference %+q", c[0], got, c[1])
		}
	}
	t.Logf("%d code points, %d compose sequences, %d mismatches", utf8.MaxRune+1-0x800, len(sweep.Compose), bad)
}

func TestNFCLongMarkRun(t *testing.T) {
	// 100,000 marks in descending class order: reordered in full, in O(n log n).
	s := "q" + strings.Repeat("\u0301\u0316", 50000)
	got := nfc(s)
	want := "q" + strings.Repeat("\u0316", 50000) + strings.Repeat("\u0301", 50000)
	if got != want {
		t.Fatal("long mark run not fully reordered")
	}
}
