package vision

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/gguf"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// The mmproj files of testdata/gguf were written by llama.cpp's convert_hf_to_gguf.py from the
// tiny bf16 checkpoints of the goldens (tools/reference/mmproj_fixtures.py --family ...): the
// Qwen3-VL one (testdata/golden/tiny-checkpoint, with DeepStack) and the Qwen3.5, Qwen3.5-MoE
// and Qwen4-Exp ones (testdata/golden/family, no DeepStack), which the converter writes as the
// same projector type. The checkpoints are stored in bf16, so their f32 and bf16 conversions hold
// their values exactly: encoding from them must equal encoding from the safetensors folder bit
// for bit. f16 (exact for bf16 values in binary16's normal range, not for the smallest weights)
// and q8_0 lose precision; their error against HF float32 (the checkpoint's golden
// <checkpoint>.safetensors beside it) is measured.
type ggufCase struct {
	family     string
	stem       string // testdata/gguf/<stem>-<dtype>.gguf
	dir        string // the folder holding the checkpoint, its golden pixels and its HF float32 outputs
	checkpoint string
	deepstack  int // DeepStack outputs
}

var (
	goldenDir = filepath.Join("..", "testdata", "golden")
	familyDir = filepath.Join(goldenDir, "family")
)

var ggufCases = []ggufCase{
	{"qwen3-vl", "mmproj-tiny", goldenDir, "tiny-checkpoint", 2},
	{"qwen3.5", "mmproj-tiny-qwen3.5", familyDir, "tiny-qwen3.5-checkpoint", 0},
	{"qwen3.5-moe", "mmproj-tiny-qwen3.5-moe", familyDir, "tiny-qwen3.5-moe-checkpoint", 0},
	{"qwen4-exp", "mmproj-tiny-qwen4-exp", familyDir, "tiny-qwen4-exp-checkpoint", 0},
}

func (c ggufCase) file(dtype string) string {
	return filepath.Join("..", "testdata", "gguf", c.stem+"-"+dtype+".gguf")
}

// ggufFixture is the Qwen3-VL file of that type.
func ggufFixture(dtype string) string { return ggufCases[0].file(dtype) }

// encodeInputs encodes the checkpoint's golden pixels with m.
func (c ggufCase) encodeInputs(t *testing.T, m *Model) *Output {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(c.dir, c.checkpoint+".pixels.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	px, err := f.Float32("pixel_values")
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Encode(context.Background(), px, []Grid{{1, 6, 4}, {2, 4, 4}, {1, 2, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deepstack) != c.deepstack {
		t.Errorf("%s: %d DeepStack outputs, want %d", c.family, len(out.Deepstack), c.deepstack)
	}
	return out
}

func outputs(o *Output) map[string]Matrix {
	m := map[string]Matrix{"pooler_output": o.Pooler, "last_hidden_state": o.LastHidden}
	for k, d := range o.Deepstack {
		m[fmt.Sprintf("deepstack_features.%d", k)] = d
	}
	return m
}

func TestGGUFConfig(t *testing.T) {
	for _, c := range ggufCases {
		want, err := ReadConfig(filepath.Join(c.dir, c.checkpoint, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, dtype := range []string{"f32", "f16", "bf16", "q8_0"} {
			f, err := gguf.Open(c.file(dtype))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ConfigFromGGUF(f)
			f.Close()
			if err != nil {
				t.Fatalf("%s %s: %v", c.family, dtype, err)
			}
			if !configsEqual(got, want) || len(got.DeepstackVisualIndexes) != c.deepstack {
				t.Errorf("%s %s: config %+v, want %+v", c.family, dtype, got, want)
			}
		}
	}
}

func TestGGUFExact(t *testing.T) {
	for _, c := range ggufCases {
		ref, err := Load(context.Background(), filepath.Join(c.dir, c.checkpoint), Options{Weights: WeightsF32})
		if err != nil {
			t.Fatal(err)
		}
		want := outputs(c.encodeInputs(t, ref))
		for _, v := range []struct {
			dtype   string
			weights Weights
		}{{"f32", WeightsAuto}, {"bf16", WeightsAuto}, {"bf16", WeightsBF16}, {"f32", WeightsBF16}} {
			m, err := LoadGGUF(context.Background(), c.file(v.dtype), Options{Weights: v.weights})
			if err != nil {
				t.Fatal(err)
			}
			got := outputs(c.encodeInputs(t, m))
			if len(got) != len(want) {
				t.Errorf("%s %s GGUF: %d outputs, want %d", c.family, v.dtype, len(got), len(want))
			}
			for name, w := range want {
				g := got[name]
				if g.Rows != w.Rows || g.Cols != w.Cols || !slices.EqualFunc(g.Data, w.Data, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
					t.Errorf("%s %s GGUF, weights %v: %s differs from the safetensors checkpoint's", c.family, v.dtype, v.weights, name)
				}
			}
		}
	}
}

// TestGGUFLossy measures the f16 and q8_0 files against the HF float32 golden. f16 is held to
// the float32 path's targets (every family measures rel ≤ 1.1e-6); q8_0 to about three times its
// measured error (rel ≤ 7.1e-3, 1 − cosine ≤ 1.9e-5 for Qwen3-VL, and at most 7.8e-3 and 2.3e-5
// for the other families, on AMD EPYC, docs/FIDELITY.md), so that a misread tensor (a wrong
// scale, a transposed or misplaced half) fails.
func TestGGUFLossy(t *testing.T) {
	for _, c := range ggufCases {
		golden, err := safetensors.Open(filepath.Join(c.dir, c.checkpoint+".safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []struct {
			dtype  string
			relMax float64
			cosMin float64
		}{{"f16", 1e-5, 0.99999}, {"q8_0", 2e-2, 0.9999}} {
			m, err := LoadGGUF(context.Background(), c.file(v.dtype), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for name, got := range outputs(c.encodeInputs(t, m)) {
				want, err := golden.Float32(name)
				if err != nil {
					t.Fatal(err)
				}
				maxAbs, rel, cos := compare(got.Data, want)
				t.Logf("FIDELITY gguf-%s %s %s max|Δ|=%.3g rel=%.3g 1-cos=%.3g", c.family, v.dtype, name, maxAbs, rel, 1-cos)
				if !(rel <= v.relMax) || !(cos >= v.cosMin) {
					t.Errorf("%s %s %s: rel %.3g (bound %.0e), cosine %.9f (bound %v)", c.family, v.dtype, name, rel, v.relMax, cos, v.cosMin)
				}
			}
		}
		golden.Close()
	}
}

// Files that are not a Qwen3-VL tower, or lie about it, are refused with the file named.
func TestGGUFErrors(t *testing.T) {
	data, err := os.ReadFile(ggufFixture("f32"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// replace swaps one string value of the same length (the file's layout is unchanged).
	replace := func(old, new string) []byte {
		if len(old) != len(new) || !strings.Contains(string(data), old) {
			t.Fatalf("cannot replace %q", old)
		}
		return []byte(strings.Replace(string(data), old, new, 1))
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"projector", replace("qwen3vl_merger", "qwen2vl_merger"), `projector type "qwen2vl_merger"`},
		{"no patch half", replace("v.patch_embd.weight.1", "v.patch_embd.weight.2"), "two temporal halves"},
		{"missing block tensor", replace("v.blk.3.ffn_up.weight", "v.blk.3.ffn_xx.weight"), "v.blk.3.ffn_up.weight is missing"},
		{"truncated", data[:len(data)/2], "past the end of the file"},
		{"not gguf", []byte("PK\x03\x04 a zip file, not a GGUF one........."), "not a GGUF file"},
	} {
		p := write(c.name+".gguf", c.data)
		_, err := LoadGGUF(context.Background(), p, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error naming %s and saying %q", c.name, err, p, c.want)
		}
	}
	if _, err := LoadGGUF(context.Background(), filepath.Join(dir, "absent.gguf"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
}

func TestGGUFNames(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"patch_embed.proj.bias", "v.patch_embd.bias"},
		{"pos_embed.weight", "v.position_embd.weight"},
		{"blocks.3.norm1.weight", "v.blk.3.ln1.weight"},
		{"blocks.0.attn.qkv.bias", "v.blk.0.attn_qkv.bias"},
		{"blocks.11.attn.proj.weight", "v.blk.11.attn_out.weight"},
		{"blocks.2.norm2.bias", "v.blk.2.ln2.bias"},
		{"blocks.1.mlp.linear_fc1.weight", "v.blk.1.ffn_up.weight"},
		{"blocks.1.mlp.linear_fc2.bias", "v.blk.1.ffn_down.bias"},
		{"merger.norm.weight", "v.post_ln.weight"},
		{"merger.linear_fc1.weight", "mm.0.weight"},
		{"merger.linear_fc2.bias", "mm.2.bias"},
		{"deepstack_merger_list.0.norm.weight", "v.deepstack.8.norm.weight"},
		{"deepstack_merger_list.2.linear_fc2.weight", "v.deepstack.24.fc2.weight"},
	} {
		if got, ok := ggufName(c.name, []int{8, 16, 24}); !ok || got != c.want {
			t.Errorf("ggufName(%s) = %q, %v; want %q", c.name, got, ok, c.want)
		}
	}
	for _, bad := range []string{"blocks.0.attn.q.weight", "deepstack_merger_list.3.norm.weight", "nothing"} {
		if got, ok := ggufName(bad, []int{8, 16, 24}); ok {
			t.Errorf("ggufName(%s) = %q, want none", bad, got)
		}
	}
}

// TestGGUFPixels: the pixel budget keys ollama's converter writes are read when present, their
// absence is no error, and a wrong type or value is one naming the key.
func TestGGUFPixels(t *testing.T) {
	// kvFile is a GGUF file of no tensors and the given u32 (or, for a negative value, i32)
	// keys, written field by field.
	kvFile := func(kvs ...any) []byte {
		b := binary.LittleEndian.AppendUint32([]byte("GGUF"), 3)
		b = binary.LittleEndian.AppendUint64(b, 0)
		b = binary.LittleEndian.AppendUint64(b, uint64(len(kvs)/2))
		for i := 0; i < len(kvs); i += 2 {
			k := kvs[i].(string)
			b = binary.LittleEndian.AppendUint64(b, uint64(len(k)))
			b = append(b, k...)
			switch v := kvs[i+1].(type) {
			case int:
				if v < 0 {
					b = binary.LittleEndian.AppendUint32(b, uint32(gguf.TypeInt32))
				} else {
					b = binary.LittleEndian.AppendUint32(b, uint32(gguf.TypeUint32))
				}
				b = binary.LittleEndian.AppendUint32(b, uint32(v))
			case string:
				b = binary.LittleEndian.AppendUint32(b, uint32(gguf.TypeString))
				b = binary.LittleEndian.AppendUint64(b, uint64(len(v)))
				b = append(b, v...)
			}
		}
		return b
	}
	for _, c := range []struct {
		name     string
		data     []byte
		min, max int
		wantErr  string
	}{
		{"both", kvFile(ggufKeyMinPixels, 65536, ggufKeyMaxPixels, 16777216), 65536, 16777216, ""},
		{"max only", kvFile(ggufKeyMaxPixels, 1000000), 0, 1000000, ""},
		{"none", kvFile(), 0, 0, ""},
		{"zero", kvFile(ggufKeyMinPixels, 0), 0, 0, "clip.vision.image_min_pixels 0 is out of range"},
		{"negative", kvFile(ggufKeyMaxPixels, -5), 0, 0, "clip.vision.image_max_pixels -5 is out of range"},
		{"string", kvFile(ggufKeyMinPixels, "big"), 0, 0, `key "clip.vision.image_min_pixels" is a string, want an integer`},
	} {
		f, err := gguf.Parse(c.data)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		lo, hi, err := GGUFPixels(f)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: %d, %d, %v; want an error saying %q", c.name, lo, hi, err, c.wantErr)
			}
			continue
		}
		if err != nil || lo != c.min || hi != c.max {
			t.Errorf("%s: %d, %d, %v; want %d, %d", c.name, lo, hi, err, c.min, c.max)
		}
	}
	// llama.cpp's converter writes neither for Qwen3-VL.
	f, err := gguf.Open(ggufFixture("f32"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if lo, hi, err := GGUFPixels(f); lo != 0 || hi != 0 || err != nil {
		t.Errorf("fixture: %d, %d, %v", lo, hi, err)
	}
}
