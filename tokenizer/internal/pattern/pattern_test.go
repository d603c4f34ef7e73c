package pattern

import (
	"encoding/json"
	"math/rand"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The split patterns of the two tokenizer.json files in testdata/tokenizer.
const (
	qwen3VL = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	qwen35  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	gpt2    = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
)

func split(t testing.TB, re *Regexp, s string) []string {
	t.Helper()
	var m Machine
	var out []string
	it := re.Iter(&m, s)
	for {
		st, e, ok := it.Next()
		if !ok {
			return out
		}
		out = append(out, s[st:e])
	}
}

func TestSplitQwen(t *testing.T) {
	re, err := Compile(qwen3VL)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want []string
	}{
		{"Hello world", []string{"Hello", " world"}},
		{"a   b", []string{"a", "  ", " b"}},
		{"a   ", []string{"a", "   "}},
		{"I'm HE'LL it'S", []string{"I", "'m", " HE", "'LL", " it", "'S"}},
		{"x'ſ", []string{"x", "'ſ"}},
		{"12345", []string{"1", "2", "3", "4", "5"}},
		{"hi!!\n\nyo", []string{"hi", "!!\n\n", "yo"}},
		{"a \n\n  b", []string{"a", " \n\n", " ", " b"}},
		{"  \t x", []string{"  \t", " x"}},
		{"\n", []string{"\n"}},
		{"", nil},
		{"你好，世界", []string{"你好", "，世界"}},
		{"$x = 3.5;", []string{"$x", " =", " ", "3", ".", "5", ";"}},
	}
	for _, tc := range tests {
		if got := split(t, re, tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("split(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEmptyMatches(t *testing.T) {
	re, err := Compile(`a*`)
	if err != nil {
		t.Fatal(err)
	}
	var m Machine
	it := re.Iter(&m, "baab")
	var got [][2]int
	for {
		s, e, ok := it.Next()
		if !ok {
			break
		}
		got = append(got, [2]int{s, e})
	}
	want := [][2]int{{0, 0}, {1, 3}, {4, 4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ pat, want string }{
		{`(?<=a)b`, "lookbehind unsupported at offset 0"},
		{`a(?<!a)`, "lookbehind unsupported at offset 1"},
		{`(a)\1`, `back-reference or octal escape \1 unsupported at offset 3`},
		{`a*?`, "lazy quantifier unsupported at offset 2"},
		{`a++`, "possessive quantifier unsupported at offset 2"},
		{`^a`, "anchor '^' unsupported at offset 0"},
		{`a$`, "anchor '$' unsupported at offset 1"},
		{`\bx`, `anchor \b unsupported at offset 0`},
		{`(?>a)`, "atomic group unsupported at offset 0"},
		{`(?i)a`, `inline option switch "?i)" unsupported at offset 0`},
		{`(a`, "missing ')' at offset 0"},
		{`a)`, "unmatched ')' at offset 1"},
		{`[a`, "missing ']' at offset 0"},
		{`[[a]]`, "nested class unsupported at offset 1"},
		{`[a&&b]`, "class intersection unsupported at offset 2"},
		{`\p{Foo}`, `unknown property \p{Foo} at offset 0`},
		{`(?:a?)*`, "unbounded quantifier on a group that can match empty unsupported at offset 6"},
		{`*a`, "quantifier '*' without a target at offset 0"},
		{`[z-a]`, "empty range 'z'-'a' at offset 2"},
		{`a{3,1}`, "repeat {3,1} with min over max at offset 1"},
		{`(?=a)*`, "quantifier on a lookahead unsupported at offset 5"},
		{"\\", "trailing backslash at offset 0"},
	}
	for _, tc := range tests {
		_, err := Compile(tc.pat)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%q) = %v, want error containing %q", tc.pat, err, tc.want)
		}
	}
}

// alphabet draws characters that exercise every class in the Qwen patterns.
var alphabet = []rune("aZé'sStTlLmMdDrRvVſ 0９\u00a0\u3000\t\r\n\u2028.,!你\u0301\u0300🙂𝐀𝟘\x00\u200b-_")

func randString(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteRune(alphabet[r.Intn(len(alphabet))])
	}
	return b.String()
}

func TestAgainstReference(t *testing.T) {
	pats := []string{qwen3VL, qwen35, gpt2,
		`(?:ab|a)(?:bc|b)?c`, `a{2,4}b|a{1,2}`, `(?:a|b){2,3}(?!a)`, `[^\s\p{L}]+(?=\s)|\S`,
		`(?i:[a-c]+|s't)`, `(?:x\s?)+y|x`, `\w+|\W`, `[\W\d]+`, `.+`, `(?:a|)b?`,
		`(?=(?:ab)+)a|b*`, `\p{^L}{2}|\P{N}`, `\d{0,2}`, `\u00e9|\x{1F642}|\x41`}
	r := rand.New(rand.NewSource(1))
	for _, pat := range pats {
		re, err := Compile(pat)
		if err != nil {
			t.Fatalf("Compile(%q): %v", pat, err)
		}
		root, _ := parse(pat)
		var m Machine
		for i := 0; i < 2000; i++ {
			s := randString(r, r.Intn(30))
			want := refSplit(root, s)
			var got [][2]int
			it := re.Iter(&m, s)
			for {
				st, e, ok := it.Next()
				if !ok {
					break
				}
				got = append(got, [2]int{st, e})
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("pattern %q on %q: got %v, reference %v", pat, s, got, want)
			}
		}
	}
}

func TestLongRunsLinear(t *testing.T) {
	re, err := Compile(qwen3VL)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{strings.Repeat("a", 200000), strings.Repeat(" ", 200000) + "x",
		strings.Repeat("!", 200000), strings.Repeat(" \n", 100000)} {
		got := split(t, re, s)
		if strings.Join(got, "") != s {
			t.Fatalf("pieces do not cover the input")
		}
	}
}

func FuzzPattern(f *testing.F) {
	for _, s := range []string{qwen3VL, qwen35, gpt2, `(?i:a)`, `[^\p{L}]`, `a{2,}`, `(?!x)`} {
		f.Add(s, "Hello world's 123  \n")
	}
	f.Fuzz(func(t *testing.T, pat, subject string) {
		// Backtracking is exponential on some patterns (as in Oniguruma, which stops at a
		// retry limit): keep the cases small enough to finish.
		if len(pat) > 48 {
			return
		}
		re, err := Compile(pat)
		if err != nil {
			return
		}
		if len(subject) > 8 {
			subject = subject[:8]
		}
		var m Machine
		var got [][2]int
		it := re.Iter(&m, subject)
		for n := 0; ; n++ {
			st, e, ok := it.Next()
			if !ok {
				break
			}
			if st < 0 || e < st || e > len(subject) || n > len(subject)+1 {
				t.Fatalf("bad match [%d,%d) in %q", st, e, subject)
			}
			got = append(got, [2]int{st, e})
		}
		if !utf8.ValidString(subject) {
			return // the reference matcher assumes valid UTF-8
		}
		root, _ := parse(pat)
		if want := refSplit(root, subject); !reflect.DeepEqual(got, want) {
			t.Fatalf("pattern %q on %q: got %v, reference %v", pat, subject, got, want)
		}
	})
}

func BenchmarkSplit(b *testing.B) {
	re, err := Compile(qwen3VL)
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat("The quick brown fox's 123 jumps — über den faulen Hund! 你好世界。\n", 200)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var m Machine
	for b.Loop() {
		it := re.Iter(&m, text)
		for {
			if _, _, ok := it.Next(); !ok {
				break
			}
		}
	}
}

// TestClassesAgainstSweep checks \p{L}, \p{N}, \p{M} and \s, code point by code point,
// against the reference sweep (testdata/tokenizer/*.codepoints.json).
func TestClassesAgainstSweep(t *testing.T) {
	for _, fam := range []string{"qwen3vl", "qwen3.5"} {
		data, err := os.ReadFile("../../../testdata/tokenizer/" + fam + ".codepoints.json")
		if os.IsNotExist(err) {
			t.Skipf("%s.codepoints.json absent", fam)
		}
		if err != nil {
			t.Fatal(err)
		}
		var sweep map[string]json.RawMessage
		if err := json.Unmarshal(data, &sweep); err != nil {
			t.Fatal(err)
		}
		for key, pat := range map[string]string{"L": `\p{L}`, "N": `\p{N}`, "M": `\p{M}`, "S": `\s`} {
			raw, ok := sweep[key]
			if !ok {
				continue
			}
			var ranges [][2]rune
			if err := json.Unmarshal(raw, &ranges); err != nil {
				t.Fatal(err)
			}
			in := map[rune]bool{}
			for _, r := range ranges {
				for c := r[0]; c <= r[1]; c++ {
					in[c] = true
				}
			}
			re, err := Compile(pat)
			if err != nil {
				t.Fatal(err)
			}
			cls := re.prog[0].cls
			bad := 0
			for c := rune(0); c <= unicode.MaxRune; c++ {
				if c >= 0xD800 && c < 0xE000 {
					continue
				}
				if cls.Has(c) != in[c] {
					bad++
					if bad < 5 {
						t.Errorf("%s %s: U+%04X: got %v, reference %v", fam, pat, c, cls.Has(c), in[c])
					}
				}
			}
			if bad > 0 {
				t.Errorf("%s %s: %d code points differ", fam, pat, bad)
			}
		}
	}
}
