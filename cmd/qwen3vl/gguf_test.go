package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// The mmproj fixtures were converted from testdata/golden/tiny-checkpoint (mmproj-tiny-*) and
// the tiny checkpoints of testdata/golden/family (mmproj-tiny-FAMILY-*) by llama.cpp's
// convert_hf_to_gguf.py (tools/reference/mmproj_fixtures.py; see testdata/gguf/README.md).
const ggufDir = "../../testdata/gguf"

// encodeOutputs runs encode on the tiny checkpoint's golden pixels and returns the output
// file's tensors as float32 bits (grid_thw as int64) and its metadata.
func encodeOutputs(t *testing.T, args ...string) (map[string][]uint32, map[string]string) {
	t.Helper()
	return encodePixelsOutputs(t, "../../testdata/golden/tiny-checkpoint.pixels.safetensors", args...)
}

// encodePixelsOutputs is encodeOutputs on the pixels file given.
func encodePixelsOutputs(t *testing.T, pixels string, args ...string) (map[string][]uint32, map[string]string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.safetensors")
	args = append([]string{"encode", "-q", "-pixels", pixels, "-o", out}, args...)
	code, stderr := runCmd(t, args...)
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, stderr)
	}
	f, err := safetensors.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string][]uint32{}
	for _, info := range f.Header().Tensors {
		if info.DType == safetensors.I64 {
			v, err := f.Int64(info.Name)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range v {
				got[info.Name] = append(got[info.Name], uint32(x))
			}
			continue
		}
		v, err := f.Float32(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range v {
			got[info.Name] = append(got[info.Name], math.Float32bits(x))
		}
	}
	return got, f.Header().Metadata
}

// TestEncodeGGUF: `encode -model FILE.gguf` (and ollama:NAME from a store holding the file as
// a projector blob) writes what encoding the safetensors checkpoint it was converted from
// writes, bit for bit, with the GGUF source in the metadata.
func TestEncodeGGUF(t *testing.T) {
	want, _ := encodeOutputs(t, "-model", "../../testdata/golden/tiny-checkpoint", "-weights", "f32")

	store := t.TempDir()
	t.Setenv("OLLAMA_MODELS", store)
	proj, err := os.ReadFile(filepath.Join(ggufDir, "mmproj-tiny-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(proj)
	blob := filepath.Join(store, "blobs", "sha256-"+hex.EncodeToString(sum[:]))
	manifest, _ := json.Marshal(map[string]any{"schemaVersion": 2, "layers": []map[string]any{
		{"mediaType": "application/vnd.ollama.image.projector", "digest": "sha256:" + hex.EncodeToString(sum[:]), "size": len(proj)},
	}})
	mpath := filepath.Join(store, "manifests", "registry.ollama.ai", "library", "tiny", "latest")
	for p, b := range map[string][]byte{blob: proj, mpath: manifest} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	for _, c := range []struct {
		model, file string
		args        []string
	}{
		{filepath.Join(ggufDir, "mmproj-tiny-f32.gguf"), filepath.Join(ggufDir, "mmproj-tiny-f32.gguf"), nil},
		{filepath.Join(ggufDir, "mmproj-tiny-bf16.gguf"), filepath.Join(ggufDir, "mmproj-tiny-bf16.gguf"), []string{"-weights", "bf16"}},
		{"ollama:tiny", blob, nil},
	} {
		got, md := encodeOutputs(t, append([]string{"-model", c.model}, c.args...)...)
		if len(got) != len(want) {
			t.Errorf("%s: %d tensors, want %d", c.model, len(got), len(want))
		}
		for name, w := range want {
			g := got[name]
			if len(g) != len(w) {
				t.Errorf("%s: %s has %d values, want %d", c.model, name, len(g), len(w))
				continue
			}
			for i := range w {
				if g[i] != w[i] {
					t.Errorf("%s: %s[%d] differs from the safetensors checkpoint's", c.model, name, i)
					break
				}
			}
		}
		if md["model"] != c.model || md["model_format"] != "gguf" || md["model_file"] != c.file || md["gguf_types"] == "" {
			t.Errorf("%s: metadata %v", c.model, md)
		}
	}
}

// TestEncodeGGUFFamilies: the mmproj files of the tiny Qwen3.5, Qwen3.5-MoE and Qwen4-Exp
// checkpoints (no DeepStack) encode as the checkpoint folders do, bit for bit, and write no
// deepstack_features.
func TestEncodeGGUFFamilies(t *testing.T) {
	const family = "../../testdata/golden/family"
	for _, name := range []string{"qwen3.5", "qwen3.5-moe", "qwen4-exp"} {
		pixels := filepath.Join(family, "tiny-"+name+"-checkpoint.pixels.safetensors")
		want, _ := encodePixelsOutputs(t, pixels, "-model", filepath.Join(family, "tiny-"+name+"-checkpoint"), "-weights", "f32")
		for _, c := range []struct{ dtype, weights string }{{"f32", "auto"}, {"bf16", "bf16"}} {
			model := filepath.Join(ggufDir, "mmproj-tiny-"+name+"-"+c.dtype+".gguf")
			got, md := encodePixelsOutputs(t, pixels, "-model", model, "-weights", c.weights)
			if len(got) != len(want) || len(got) != 3 { // pooler_output, last_hidden_state, grid_thw
				t.Errorf("%s: tensors %d, want %d (and 3)", model, len(got), len(want))
			}
			for n := range got {
				if strings.HasPrefix(n, "deepstack_features") {
					t.Errorf("%s: writes %s", model, n)
				}
			}
			for n, w := range want {
				if g := got[n]; !slices.Equal(g, w) {
					t.Errorf("%s: %s differs from the safetensors checkpoint's", model, n)
				}
			}
			if md["model_format"] != "gguf" || md["model_file"] != model {
				t.Errorf("%s: metadata %v", model, md)
			}
		}
	}
}

// TestGGUFNeedsNoText: a GGUF spec works where no language model is needed, and is a usage
// error naming the file where one is.
func TestGGUFNeedsNoText(t *testing.T) {
	file := filepath.Join(ggufDir, "mmproj-tiny-q8_0.gguf")
	t.Setenv("OLLAMA_MODELS", t.TempDir())
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ask", "-model", file, "hi"}, 2, "qwen3vl ask: model " + file + " is a llama.cpp mmproj GGUF file, a vision tower only, with no language model or tokenizer"},
		{[]string{"chat", "-model", file}, 2, "a vision tower only"},
		{[]string{"tokenize", "-model", file, "hi"}, 2, "a vision tower only"},
		{[]string{"serve", "-model", file, "-chat", "-addr", "127.0.0.1:0"}, 2, "a vision tower only"},
		{[]string{"explain", "-model", file, "-size", "640x480"}, 0, ""},
		{[]string{"encode", "-model", "ollama:absent-model", "-pixels", "x", "-o", "y"}, 2, "ollama has no model absent-model:latest: no manifest"},
	} {
		code, stderr := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
}
