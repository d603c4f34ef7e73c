package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/vision"
)

// The mmproj fixtures of testdata/gguf were converted from testdata/golden/tiny-checkpoint by
// llama.cpp's convert_hf_to_gguf.py (tools/reference/mmproj_fixtures.py).
func ggufFixture(dtype string) string {
	return filepath.Join("..", "testdata", "gguf", "mmproj-tiny-"+dtype+".gguf")
}

func readFixture(t testing.TB, dtype string) []byte {
	t.Helper()
	b, err := os.ReadFile(ggufFixture(dtype))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ollamaStoreFixture is a fake ollama store: models are added with add, each a manifest of
// the given layers under manifests/HOST/NAMESPACE/MODEL/TAG and their blobs.
type ollamaStoreFixture struct {
	t    testing.TB
	root string
}

type fakeLayer struct {
	mediaType string
	data      []byte
	size      int64 // the manifest's size; -1: len(data)
	noBlob    bool  // leave the blob out of blobs/
	digest    string
}

func (s ollamaStoreFixture) blob(data []byte) (digest, path string) {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	return "sha256:" + h, filepath.Join(s.root, "blobs", "sha256-"+h)
}

func (s ollamaStoreFixture) add(manifest string, layers ...fakeLayer) {
	type layer struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
	}
	m := struct {
		SchemaVersion int     `json:"schemaVersion"`
		MediaType     string  `json:"mediaType"`
		Config        layer   `json:"config"`
		Layers        []layer `json:"layers"`
	}{SchemaVersion: 2, MediaType: "application/vnd.docker.distribution.manifest.v2+json"}
	cfg := []byte(`{"model_format":"gguf"}`)
	d, p := s.blob(cfg)
	writeFile(s.t, p, cfg)
	m.Config = layer{"application/vnd.docker.container.image.v1+json", d, int64(len(cfg))}
	for _, l := range layers {
		d, p := s.blob(l.data)
		if !l.noBlob {
			writeFile(s.t, p, l.data)
		}
		if l.digest != "" {
			d = l.digest
		}
		size := l.size
		if size < 0 {
			size = int64(len(l.data))
		}
		m.Layers = append(m.Layers, layer{l.mediaType, d, size})
	}
	b, err := json.Marshal(m)
	if err != nil {
		s.t.Fatal(err)
	}
	writeFile(s.t, filepath.Join(s.root, "manifests", filepath.FromSlash(manifest)), b)
}

// newOllamaStore makes a fake store in a temporary folder, with OLLAMA_MODELS set to it (see
// buildOllamaStore).
func newOllamaStore(t testing.TB) (ollamaStoreFixture, []byte) {
	s := ollamaStoreFixture{t: t, root: t.TempDir()}
	t.Setenv("OLLAMA_MODELS", s.root)
	return s, s.build()
}

// build writes the store's models: qwen3-vl-tiny (:latest and :f32), someone/tiny:q8 and
// hf.co/Org/Tiny-GGUF:Q8_0 with the f32 fixture as projector, and the failing cases. It
// returns the projector's bytes.
func (s ollamaStoreFixture) build() []byte {
	t := s.t
	proj := readFixture(t, "f32")
	model := fakeLayer{mediaType: "application/vnd.ollama.image.model", data: []byte("GGUF text model stand-in"), size: -1}
	projector := fakeLayer{mediaType: ollamaProjector, data: proj, size: -1}
	const lib = "registry.ollama.ai/library/"
	s.add(lib+"qwen3-vl-tiny/latest", model, projector)
	s.add(lib+"qwen3-vl-tiny/f32", model, projector)
	s.add("registry.ollama.ai/someone/tiny/q8", model, projector)
	s.add("hf.co/Org/Tiny-GGUF/Q8_0", model, projector)
	s.add(lib+"text-only/latest", model, fakeLayer{mediaType: "application/vnd.ollama.image.template", data: []byte("{{ .Prompt }}"), size: -1})
	short := projector
	short.size = int64(len(proj)) + 1
	s.add(lib+"wrong-size/latest", model, short)
	gone := projector
	gone.noBlob, gone.data = true, append(slices.Clone(proj), 0) // another digest, never written
	s.add(lib+"no-blob/latest", model, gone)
	bad := projector
	bad.digest = "sha256:../../etc/passwd"
	s.add(lib+"bad-digest/latest", model, bad)
	s.add(lib+"two-projectors/latest", model, projector, projector)
	writeFile(t, filepath.Join(s.root, "manifests", lib, "not-json", "latest"), []byte("{layers"))
	writeFile(t, filepath.Join(s.root, "manifests", lib, "huge", "latest"), bytes.Repeat([]byte(" "), maxManifestBytes+1))
	return proj
}

func TestParseSpecGGUF(t *testing.T) {
	store, proj := newOllamaStore(t)
	projBlob, _ := store.blob(proj)
	projPath := filepath.Join(store.root, "blobs", strings.Replace(projBlob, ":", "-", 1))

	dir := t.TempDir()
	one := filepath.Join(dir, "one")
	writeFile(t, filepath.Join(one, "mmproj-Tiny-F32.gguf"), proj)
	writeFile(t, filepath.Join(one, "README.md"), []byte("a GGUF repository's folder"))
	two := filepath.Join(dir, "two")
	writeFile(t, filepath.Join(two, "mmproj-b.gguf"), proj)
	writeFile(t, filepath.Join(two, "mmproj-a.gguf"), proj)
	none := filepath.Join(dir, "none")
	writeFile(t, filepath.Join(none, "model.gguf"), proj) // not an mmproj-*.gguf name
	ckpt := filepath.Join(dir, "ckpt")
	writeFile(t, filepath.Join(ckpt, "config.json"), []byte("{}"))
	writeFile(t, filepath.Join(ckpt, "mmproj-x.gguf"), proj)
	st := filepath.Join(dir, "st")
	writeFile(t, filepath.Join(st, "model.safetensors"), nil)
	writeFile(t, filepath.Join(st, "mmproj-x.gguf"), proj)
	ggufDir := filepath.Join(dir, "folder.gguf")
	writeFile(t, filepath.Join(ggufDir, "config.json"), []byte("{}"))

	lib := filepath.Join(store.root, "manifests", "registry.ollama.ai", "library")
	tests := []struct {
		spec     string
		kind     Kind
		path     string // Spec.Path
		manifest string // Spec.Manifest
		wantErr  []string
	}{
		{spec: ggufFixture("q8_0"), kind: GGUF, path: ggufFixture("q8_0")},
		{spec: "Org/not-here.gguf", kind: GGUF, path: "Org/not-here.gguf"}, // a file, never a hub id
		{spec: "model.GGUF", kind: GGUF, path: "model.GGUF"},
		{spec: projPath, kind: GGUF, path: projPath}, // an existing file whatever its name
		{spec: one, kind: GGUF, path: filepath.Join(one, "mmproj-Tiny-F32.gguf")},
		{spec: two, wantErr: []string{"2 mmproj GGUF files (mmproj-a.gguf, mmproj-b.gguf)", "give the file to use", filepath.Join(two, "mmproj-a.gguf")}},
		{spec: none, kind: Folder, path: none},
		{spec: ckpt, kind: Folder, path: ckpt},
		{spec: st, kind: Folder, path: st},
		{spec: ggufDir, kind: Folder, path: ggufDir},
		{spec: "ollama:qwen3-vl-tiny", kind: GGUF, path: projPath, manifest: filepath.Join(lib, "qwen3-vl-tiny", "latest")},
		{spec: "ollama:qwen3-vl-tiny:f32", kind: GGUF, path: projPath, manifest: filepath.Join(lib, "qwen3-vl-tiny", "f32")},
		{spec: "ollama:someone/tiny:q8", kind: GGUF, path: projPath, manifest: filepath.Join(store.root, "manifests", "registry.ollama.ai", "someone", "tiny", "q8")},
		{spec: "ollama:hf.co/Org/Tiny-GGUF:Q8_0", kind: GGUF, path: projPath, manifest: filepath.Join(store.root, "manifests", "hf.co", "Org", "Tiny-GGUF", "Q8_0")},
		{spec: "ollama:qwen3-vl:8b", wantErr: []string{"no manifest " + filepath.Join(lib, "qwen3-vl", "8b"), "ollama pull qwen3-vl:8b"}},
		{spec: "ollama:text-only", wantErr: []string{"manifest " + filepath.Join(lib, "text-only", "latest"), "has no projector layer", "application/vnd.ollama.image.model, application/vnd.ollama.image.template", "text-only"}},
		{spec: "ollama:wrong-size", wantErr: []string{projPath, fmt.Sprintf("is %d bytes, but manifest %s says %d", len(proj), filepath.Join(lib, "wrong-size", "latest"), len(proj)+1)}},
		{spec: "ollama:no-blob", wantErr: []string{"names the projector blob", "which is missing", "ollama pull no-blob:latest again"}},
		{spec: "ollama:bad-digest", wantErr: []string{`digest "sha256:../../etc/passwd" is not sha256:<64 hex digits>`}},
		{spec: "ollama:two-projectors", wantErr: []string{"has 2 projector layers"}},
		{spec: "ollama:not-json", wantErr: []string{"is not valid JSON"}},
		{spec: "ollama:huge", wantErr: []string{"limit 1048576 bytes"}},
		{spec: "ollama:", wantErr: []string{"no model name after ollama:"}},
		{spec: "ollama:../../x", wantErr: []string{`host ".."`}},
		{spec: "ollama:../x", wantErr: []string{`namespace ".."`}},
		{spec: "ollama:a/b/c/d", wantErr: []string{"has 4 parts"}},
		{spec: "ollama:qwen3-vl:", wantErr: []string{`tag ""`}},
		{spec: "ollama:bad.ns/x", wantErr: []string{`namespace "bad.ns"`}},
	}
	for _, tc := range tests {
		s, err := ParseSpec(tc.spec)
		if tc.wantErr != nil {
			if err == nil {
				t.Errorf("ParseSpec(%q) = %+v, want an error", tc.spec, s)
				continue
			}
			for _, w := range append(tc.wantErr, "model "+tc.spec+": ") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseSpec(%q): %v\nwant it to say %q", tc.spec, err, w)
				}
			}
			continue
		}
		if err != nil || s.Kind != tc.kind || s.Path != tc.path || s.Manifest != tc.manifest {
			t.Errorf("ParseSpec(%q) = kind %v, path %q, manifest %q, %v\nwant %v, %q, %q", tc.spec, s.Kind, s.Path, s.Manifest, err, tc.kind, tc.path, tc.manifest)
		}
	}
}

// encodeFixturePixels encodes the tiny checkpoint's golden pixels with p.
func encodeFixturePixels(t *testing.T, p *Pipeline) Features {
	t.Helper()
	items, err := ReadPixels(filepath.Join(goldenDir, "tiny-checkpoint.pixels.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var b Batch
	for _, it := range items {
		b.Add(it)
	}
	res, err := p.Encode(context.Background(), &b)
	if err != nil {
		t.Fatal(err)
	}
	return res.Items(0, b.Len())
}

// TestGGUFResolveLoad: the f32 and bf16 mmproj files (as a file, a folder and an ollama model)
// resolve to the checkpoint's config and preprocessing options, and encode bit for bit as the
// safetensors checkpoint they were converted from.
func TestGGUFResolveLoad(t *testing.T) {
	ctx := context.Background()
	newOllamaStore(t)
	ref, err := Open(ctx, filepath.Join(goldenDir, "tiny-checkpoint"), Options{Vision: vision.Options{Weights: vision.WeightsF32}})
	if err != nil {
		t.Fatal(err)
	}
	want := encodeFixturePixels(t, ref)
	folder := t.TempDir()
	writeFile(t, filepath.Join(folder, "mmproj-tiny-bf16.gguf"), readFixture(t, "bf16"))
	for _, c := range []struct {
		spec, file, types string
		weights           vision.Weights
	}{
		{ggufFixture("f32"), ggufFixture("f32"), "F32", vision.WeightsAuto},
		{ggufFixture("bf16"), ggufFixture("bf16"), "BF16,F32", vision.WeightsBF16},
		{folder, filepath.Join(folder, "mmproj-tiny-bf16.gguf"), "BF16,F32", vision.WeightsAuto},
		{"ollama:qwen3-vl-tiny", "", "F32", vision.WeightsF32},
	} {
		var notes []string
		opts := Options{Vision: vision.Options{Weights: c.weights}, Logf: func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }}
		s, err := ParseSpec(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		ck, err := Resolve(ctx, s, opts)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if c.file == "" {
			c.file = s.Path
		}
		if !slices.Equal(ck.Config.DeepstackVisualIndexes, ref.Config.DeepstackVisualIndexes) || ck.Config.HiddenSize != ref.Config.HiddenSize || ck.Config.OutHiddenSize != ref.Config.OutHiddenSize {
			t.Errorf("%s: config %+v, want %+v", c.spec, ck.Config, ref.Config)
		}
		if ck.Image != ref.Image || ck.Video != ref.Video {
			t.Errorf("%s: options %+v / %+v, want %+v / %+v", c.spec, ck.Image, ck.Video, ref.Image, ref.Video)
		}
		p, err := ck.Load(ctx)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		got := encodeFixturePixels(t, p)
		same(t, c.spec+" pooler", got.Pooler, want.Pooler)
		same(t, c.spec+" last", got.LastHidden, want.LastHidden)
		if len(got.Deepstack) != len(want.Deepstack) {
			t.Fatalf("%s: %d DeepStack outputs, want %d", c.spec, len(got.Deepstack), len(want.Deepstack))
		}
		for k := range want.Deepstack {
			same(t, c.spec+" deepstack", got.Deepstack[k], want.Deepstack[k])
		}
		md := p.Metadata(got.Items)
		if md["model"] != c.spec || md["model_format"] != "gguf" || md["model_file"] != c.file || md["gguf_types"] != c.types || md["model_dir"] != "" {
			t.Errorf("%s: metadata %v", c.spec, md)
		}
		if (md["ollama_manifest"] != "") != strings.HasPrefix(c.spec, OllamaPrefix) {
			t.Errorf("%s: ollama_manifest %q", c.spec, md["ollama_manifest"])
		}
		if len(notes) != 0 {
			t.Errorf("%s: notes %q for a lossless file", c.spec, notes)
		}
	}
}

// TestGGUFFamilies: the Qwen3.5, Qwen3.5-MoE and Qwen4-Exp mmproj files resolve to their
// checkpoint folders' config (no DeepStack) and preprocessing, and encode bit for bit as the
// folders do, the vLLM layout O wide.
func TestGGUFFamilies(t *testing.T) {
	ctx := context.Background()
	family := filepath.Join(goldenDir, "family")
	for _, name := range []string{"qwen3.5", "qwen3.5-moe", "qwen4-exp"} {
		ref, err := Open(ctx, filepath.Join(family, "tiny-"+name+"-checkpoint"), Options{Vision: vision.Options{Weights: vision.WeightsF32}})
		if err != nil {
			t.Fatal(err)
		}
		items, err := ReadPixels(filepath.Join(family, "tiny-"+name+"-checkpoint.pixels.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		encode := func(p *Pipeline) Features {
			var b Batch
			for _, it := range items {
				b.Add(it)
			}
			res, err := p.Encode(ctx, &b)
			if err != nil {
				t.Fatal(err)
			}
			return res.Items(0, b.Len())
		}
		want := encode(ref)
		file := filepath.Join("..", "testdata", "gguf", "mmproj-tiny-"+name+"-f32.gguf")
		s, err := ParseSpec(file)
		if err != nil {
			t.Fatal(err)
		}
		ck, err := Resolve(ctx, s, Options{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if fmt.Sprint(ck.Config) != fmt.Sprint(ref.Config) || len(ck.Config.DeepstackVisualIndexes) != 0 {
			t.Errorf("%s: config %+v, want %+v and no DeepStack", file, ck.Config, ref.Config)
		}
		if ck.Image != ref.Image || ck.Video != ref.Video {
			t.Errorf("%s: options %+v / %+v, want %+v / %+v", file, ck.Image, ck.Video, ref.Image, ref.Video)
		}
		p, err := ck.Load(ctx)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		got := encode(p)
		same(t, file+" pooler", got.Pooler, want.Pooler)
		same(t, file+" last", got.LastHidden, want.LastHidden)
		if len(got.Deepstack) != 0 || len(want.Deepstack) != 0 {
			t.Errorf("%s: %d DeepStack outputs (folder: %d), want none", file, len(got.Deepstack), len(want.Deepstack))
		}
		if v := got.VLLMTensors()[0]; v.Name != VLLMEmbedsName || v.Shape[1] != ck.Config.OutHiddenSize {
			t.Errorf("%s: vLLM %s shape %v, want width O = %d", file, v.Name, v.Shape, ck.Config.OutHiddenSize)
		}
	}
}

// TestGGUFLossyNotes: F16 and Q8_0 files load (widened to float32) with a note saying so,
// and what rounding to bf16 weights adds.
func TestGGUFLossyNotes(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		dtype   string
		weights vision.Weights
		want    []string
		held    vision.Weights
	}{
		{"q8_0", vision.WeightsAuto, []string{"mmproj-tiny-q8_0.gguf stores F16, Q8_0 tensors: widened to float32 at load (Q8_0 dequantized), held as float32"}, vision.WeightsF32},
		{"f16", vision.WeightsF32, []string{"stores F16 tensors: widened to float32 at load, held as float32"}, vision.WeightsF32},
		{"q8_0", vision.WeightsBF16, []string{"then rounded to bfloat16 for bf16 weights or compute (a second rounding"}, vision.WeightsBF16},
	} {
		var notes []string
		opts := Options{Vision: vision.Options{Weights: c.weights}, Logf: func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }}
		p, err := Open(ctx, ggufFixture(c.dtype), opts)
		if err != nil {
			t.Fatalf("%s: %v", c.dtype, err)
		}
		if p.Model.Weights() != c.held {
			t.Errorf("%s, weights %v: held as %v, want %v", c.dtype, c.weights, p.Model.Weights(), c.held)
		}
		all := strings.Join(notes, "\n")
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s, weights %v: notes %q, want %q", c.dtype, c.weights, all, w)
			}
		}
	}
}

// TestGGUFImageNorm: the file's image mean and std are the preprocessing's, for images and
// videos (a fixture with other values, rewritten in place).
func TestGGUFImageNorm(t *testing.T) {
	data := readFixture(t, "f32")
	// The key, then its value: array type 9, element type f32 (6), count 3, three float32s.
	key := []byte("clip.vision.image_mean")
	i := bytes.Index(data, key)
	if i < 0 {
		t.Fatal("no image_mean key")
	}
	v := i + len(key)
	if binary.LittleEndian.Uint32(data[v:]) != 9 || binary.LittleEndian.Uint32(data[v+4:]) != 6 || binary.LittleEndian.Uint64(data[v+8:]) != 3 {
		t.Fatal("image_mean is not an array of three f32")
	}
	mean := [3]float32{0.25, 0.5, 0.75}
	for k, x := range mean {
		binary.LittleEndian.PutUint32(data[v+16+4*k:], math.Float32bits(x))
	}
	p := filepath.Join(t.TempDir(), "mmproj-mean.gguf")
	writeFile(t, p, data)
	s, err := ParseSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Resolve(context.Background(), s, Options{Preprocess: Overrides{MaxPixels: 200000}})
	if err != nil {
		t.Fatal(err)
	}
	std := [3]float32{0.5, 0.5, 0.5}
	if c.Image.Mean != mean || c.Video.Mean != mean || c.Image.Std != std || c.Video.Std != std || c.Image.MaxPixels != 200000 {
		t.Errorf("image %+v, video %+v", c.Image, c.Video)
	}
}

// TestGGUFErrors: a GGUF spec that cannot be used fails in Resolve naming the file; a GGUF spec
// has no text side.
func TestGGUFErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	proj := readFixture(t, "f32")
	other := filepath.Join(dir, "mmproj-other.gguf")
	writeFile(t, other, bytes.Replace(proj, []byte("qwen3vl_merger"), []byte("qwen2vl_merger"), 1))
	junk := filepath.Join(dir, "junk.gguf")
	writeFile(t, junk, []byte("not a GGUF file at all, just some bytes"))
	missing := filepath.Join(dir, "missing.gguf")
	for _, c := range []struct {
		path string
		want string
	}{
		{other, `projector type "qwen2vl_merger"`},
		{junk, "not a GGUF file"},
		{missing, "no such file"},
	} {
		s, err := ParseSpec(c.path)
		if err != nil || s.Kind != GGUF {
			t.Fatalf("ParseSpec(%s) = %v, %v", c.path, s.Kind, err)
		}
		_, err = Resolve(ctx, s, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) || strings.Contains(err.Error(), "pipeline: gguf: ") {
			t.Errorf("Resolve(%s): %v, want an error naming it and saying %q", c.path, err, c.want)
		}
	}
	s, _ := ParseSpec(ggufFixture("f32"))
	if _, err := OpenAssistant(ctx, s, AssistantOptions{}); !errors.Is(err, ErrVisionOnly) || !strings.Contains(err.Error(), ggufFixture("f32")) {
		t.Errorf("OpenAssistant: %v", err)
	}
	if _, err := ResolveText(ctx, s, Options{}); !errors.Is(err, ErrVisionOnly) {
		t.Errorf("ResolveText: %v", err)
	}
	c, err := Resolve(ctx, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Text(); !errors.Is(err, ErrVisionOnly) {
		t.Errorf("Checkpoint.Text: %v", err)
	}
}

// TestGGUFOllamaNotQwen: an ollama projector that is not a Qwen3-VL tower fails in Resolve
// naming the spec, not only its blob.
func TestGGUFOllamaNotQwen(t *testing.T) {
	store, proj := newOllamaStore(t)
	other := bytes.Replace(proj, []byte("qwen3vl_merger"), []byte("qwen2vl_merger"), 1) // same length: the layout holds
	store.add("registry.ollama.ai/library/other-vl/latest", fakeLayer{mediaType: ollamaProjector, data: other, size: -1})
	s, err := ParseSpec("ollama:other-vl")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Resolve(context.Background(), s, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "pipeline: model ollama:other-vl: "+s.Path+": ") || !strings.Contains(err.Error(), `projector type "qwen2vl_merger"`) {
		t.Errorf("Resolve: %v", err)
	}
}
