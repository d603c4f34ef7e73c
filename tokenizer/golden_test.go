package tokenizer

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const testdata = "../testdata/tokenizer"

// The two real tokenizers, loaded once per test binary.
var (
	loadOnce  sync.Once
	loaded    map[string]*Tokenizer
	loadErr   error
	loadTimes map[string]time.Duration
)

func family(t testing.TB, name string) *Tokenizer {
	t.Helper()
	loadOnce.Do(func() {
		loaded = map[string]*Tokenizer{}
		loadTimes = map[string]time.Duration{}
		for _, fam := range []string{"qwen3vl", "qwen3.5"} {
			start := time.Now()
			tk, err := Load(filepath.Join(testdata, fam))
			if err != nil {
				loadErr = err
				return
			}
			loadTimes[fam] = time.Since(start)
			loaded[fam] = tk
		}
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded[name]
}

// readJSONL decodes each line of path into a new T; it skips the test if path is absent.
func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		t.Skipf("%s absent (made by tools/reference, see testdata/tokenizer/README.md)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s line %d: %v", path, len(out)+1, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type corpusCase struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

type goldenCase struct {
	Name        string    `json:"name"`
	IDs         []int32   `json:"ids"`
	Pieces      []string  `json:"pieces"`
	Decoded     string    `json:"decoded"`
	DecodedSkip string    `json:"decoded_skip"`
	Pretokens   []string  `json:"pretokens"`
	Stream      []*string `json:"stream"`
}

// streamAll runs a fresh Stream over ids; "" chunks (step's None) are nil.
func streamAll(t *testing.T, tk *Tokenizer, ids []int32, skip bool) []*string {
	t.Helper()
	s := tk.NewStream(skip)
	out := make([]*string, len(ids))
	for i, id := range ids {
		c, err := s.Next(id)
		if err != nil {
			t.Fatalf("stream id %d: %v", id, err)
		}
		if c != "" {
			out[i] = &c
		}
	}
	return out
}

// pretokens returns the byte-level pre-tokens of text, as the golden's pretokens.
func (tk *Tokenizer) pretokens(text string) []string {
	e := tk.pool.Get().(*encoder)
	defer tk.pool.Put(e)
	var out []string
	tk.rawMatch.splitAdded(text, tk.splitSpecial, func(seg string) {
		seg = tk.normalize(seg)
		tk.normMatch.splitAdded(seg, tk.splitSpecial, func(s string) {
			for _, p := range tk.preTokenize(e, s) {
				out = append(out, string(appendByteLevel(nil, s[p[0]:p[1]])))
			}
		}, func(int32) {})
	}, func(int32) {})
	return out
}

func TestGolden(t *testing.T) {
	corpus := readJSONL[corpusCase](t, filepath.Join(testdata, "corpus.jsonl"))
	for _, fam := range []string{"qwen3vl", "qwen3.5"} {
		t.Run(fam, func(t *testing.T) {
			tk := family(t, fam)
			golden := readJSONL[goldenCase](t, filepath.Join(testdata, fam+".golden.jsonl"))
			if len(golden) != len(corpus) {
				t.Fatalf("%d golden lines for %d corpus cases", len(golden), len(corpus))
			}
			nIDs, bad := 0, 0
			for i, g := range golden {
				c := corpus[i]
				if g.Name != c.Name {
					t.Fatalf("line %d: golden %q, corpus %q", i+1, g.Name, c.Name)
				}
				ids, err := tk.Encode(c.Text)
				if err != nil {
					t.Fatalf("%s: %v", c.Name, err)
				}
				nIDs += len(g.IDs)
				fail := func(what string, got, want any) {
					bad++
					if bad <= 15 {
						t.Errorf("%s: %s:\n got %q\nwant %q", c.Name, what, got, want)
					}
				}
				if !reflect.DeepEqual(ids, g.IDs) && !(len(ids) == 0 && len(g.IDs) == 0) {
					fail("ids", ids, g.IDs)
				}
				if pt := tk.pretokens(c.Text); !reflect.DeepEqual(pt, g.Pretokens) && !(len(pt) == 0 && len(g.Pretokens) == 0) {
					fail("pretokens", pt, g.Pretokens)
				}
				pieces := make([]string, len(g.IDs))
				for k, id := range g.IDs {
					pieces[k], _ = tk.Piece(id)
				}
				if !reflect.DeepEqual(pieces, g.Pieces) && !(len(pieces) == 0 && len(g.Pieces) == 0) {
					fail("pieces", pieces, g.Pieces)
				}
				if d, err := tk.Decode(g.IDs, false); err != nil || d != g.Decoded {
					fail("decoded", d, g.Decoded)
				}
				if d, err := tk.Decode(g.IDs, true); err != nil || d != g.DecodedSkip {
					fail("decoded_skip", d, g.DecodedSkip)
				}
				if s := streamAll(t, tk, g.IDs, false); !reflect.DeepEqual(s, g.Stream) && !(len(s) == 0 && len(g.Stream) == 0) {
					fail("stream", deref(s), deref(g.Stream))
				}
			}
			t.Logf("%s: %d cases, %d ids, %d mismatches; load %v", fam, len(golden), nIDs, bad, loadTimes[fam])
		})
	}
}

func deref(s []*string) []string {
	out := make([]string, len(s))
	for i, p := range s {
		if p == nil {
			out[i] = "<None>"
		} else {
			out[i] = *p
		}
	}
	return out
}

type decodeCase struct {
	IDs         []int32   `json:"ids"`
	Decoded     string    `json:"decoded"`
	DecodedSkip string    `json:"decoded_skip"`
	Stream      []*string `json:"stream"`
	StreamSkip  []*string `json:"stream_skip"`
}

func TestDecodeGolden(t *testing.T) {
	for _, fam := range []string{"qwen3vl", "qwen3.5"} {
		t.Run(fam, func(t *testing.T) {
			tk := family(t, fam)
			cases := readJSONL[decodeCase](t, filepath.Join(testdata, fam+".decode.jsonl"))
			bad := 0
			for i, c := range cases {
				check := func(what string, got, want any) {
					if !reflect.DeepEqual(got, want) {
						bad++
						if bad <= 10 {
							t.Errorf("line %d %v: %s:\n got %q\nwant %q", i+1, c.IDs, what, got, want)
						}
					}
				}
				d, err := tk.Decode(c.IDs, false)
				if err != nil {
					t.Fatal(err)
				}
				check("decoded", d, c.Decoded)
				d, _ = tk.Decode(c.IDs, true)
				check("decoded_skip", d, c.DecodedSkip)
				check("stream", deref(streamAll(t, tk, c.IDs, false)), deref(c.Stream))
				check("stream_skip", deref(streamAll(t, tk, c.IDs, true)), deref(c.StreamSkip))
			}
			t.Logf("%s: %d decode cases, %d mismatches", fam, len(cases), bad)
		})
	}
}

// TestBenchCounts checks the id counts of bench.txt against those testdata/tokenizer/README.md
// records for the pinned tokenizers (whole text, and summed over lines with their "\n").
func TestBenchCounts(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdata, "bench.txt"))
	if os.IsNotExist(err) {
		t.Skip("testdata/tokenizer/bench.txt absent")
	}
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{"qwen3vl": {295782, 297744}, "qwen3.5": {287451, 289433}}
	for fam, w := range want {
		tk := family(t, fam)
		ids, err := tk.Encode(string(data))
		if err != nil {
			t.Fatal(err)
		}
		lines := 0
		for _, line := range strings.SplitAfter(string(data), "\n") {
			if line == "" {
				continue
			}
			l, err := tk.Encode(line)
			if err != nil {
				t.Fatal(err)
			}
			lines += len(l)
		}
		if len(ids) != w[0] || lines != w[1] {
			t.Errorf("%s: %d ids whole, %d by line; reference %d, %d", fam, len(ids), lines, w[0], w[1])
		}
	}
}
