package generate

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// f32 is a float32 in the goldens' JSON: a number, or null for -Inf.
type f32 float32

func (f *f32) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = f32(math.Inf(-1))
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = f32(float32(v))
	return nil
}

type goldenLine struct {
	Row        *int            `json:"row"`
	Vocab      int             `json:"vocab"`
	Logits     []f32           `json:"logits"`
	IDs        []int32         `json:"ids"`
	Case       string          `json:"case"`
	Config     json.RawMessage `json:"config"`
	Processors []string        `json:"processors"`
	Kept       []int32         `json:"kept"`
	Scores     []f32           `json:"scores"`
	Probs      []f32           `json:"probs"`
}

type goldenRow struct {
	logits []float32
	ids    []int32
}

func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
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
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// ulps is the distance between two finite float32 values in units in the last place.
func ulps(a, b float32) int64 {
	key := func(x float32) int64 {
		u := int64(math.Float32bits(x))
		if u&(1<<31) != 0 {
			return -(u &^ (1 << 31))
		}
		return u
	}
	d := key(a) - key(b)
	if d < 0 {
		d = -d
	}
	return d
}

// TestProcessorsGolden checks Apply against transformers' own processors
// (tools/reference/logits_goldens.py): -Inf at exactly the same ids, the finite scores
// bit-exact (0 ulp), the probabilities within 1e-6.
func TestProcessorsGolden(t *testing.T) {
	lines := readJSONL[goldenLine](t, filepath.Join("..", "testdata", "generate", "processors.jsonl"))
	rows := map[int]goldenRow{}
	var cases int
	var maxULP int64
	var maxProb float64
	for _, l := range lines {
		if l.Case == "" {
			lg := make([]float32, len(l.Logits))
			for i, v := range l.Logits {
				lg[i] = float32(v)
			}
			if len(lg) != l.Vocab {
				t.Fatalf("row %d: %d logits, vocab %d", *l.Row, len(lg), l.Vocab)
			}
			rows[*l.Row] = goldenRow{lg, l.IDs}
			continue
		}
		r, ok := rows[*l.Row]
		if !ok {
			t.Fatalf("%s: row %d before its data", l.Case, *l.Row)
		}
		cfg, err := ParseGenerationConfig(l.Config)
		if err != nil {
			t.Fatalf("%s: %v", l.Case, err)
		}
		p, err := NewProcessors(cfg, len(r.logits))
		if err != nil {
			t.Fatalf("%s: %v", l.Case, err)
		}
		// The same processors in the same order; HF builds a MinPLogitsWarper for min_p 0,
		// which removes nothing and which Apply skips.
		var hf []string
		for _, name := range l.Processors {
			if name != "MinPLogitsWarper" || cfg.MinP != 0 {
				hf = append(hf, name)
			}
		}
		ours := p.active()
		if len(r.ids) == 0 { // the script leaves the penalty out when there is nothing to penalise
			ours = slices.DeleteFunc(ours, func(s string) bool { return s == "RepetitionPenaltyLogitsProcessor" })
		}
		if !slices.Equal(ours, hf) {
			t.Errorf("%s: processors %v, HF %v", l.Case, ours, l.Processors)
		}
		got := append([]float32(nil), r.logits...)
		if err := p.Apply(got, r.ids, len(r.ids)); err != nil {
			t.Fatalf("%s: %v", l.Case, err)
		}
		cases++
		name := l.Case + " row " + string(rune('0'+*l.Row))
		var kept []int32
		for i, x := range got {
			if !math.IsInf(float64(x), -1) {
				kept = append(kept, int32(i))
			}
		}
		if len(kept) != len(l.Kept) {
			t.Errorf("%s: %d kept, HF keeps %d", name, len(kept), len(l.Kept))
			continue
		}
		mismatch := false
		for j := range kept {
			if kept[j] != l.Kept[j] {
				t.Errorf("%s: kept[%d] = %d, HF %d", name, j, kept[j], l.Kept[j])
				mismatch = true
				break
			}
		}
		if mismatch {
			continue
		}
		probs := Softmax(got)
		for j, id := range kept {
			if u := ulps(got[id], float32(l.Scores[j])); u > 0 {
				maxULP = max(maxULP, u)
				t.Errorf("%s: score[%d] = %v, HF %v (%d ulp)", name, id, got[id], l.Scores[j], u)
			}
			d := math.Abs(float64(probs[id]) - float64(l.Probs[j]))
			maxProb = max(maxProb, d)
			if d > 1e-6 {
				t.Errorf("%s: prob[%d] = %v, HF %v", name, id, probs[id], l.Probs[j])
			}
		}
	}
	if cases == 0 {
		t.Fatal("no cases")
	}
	t.Logf("%d cases: max score error %d ulp, max probability error %.3g", cases, maxULP, maxProb)
}
