package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// FuzzReadPixels: any file is read without a panic or a huge allocation, and what is accepted
// is consistent: every item's rows are its grid's patches, the items' rows cover the tensor.
func FuzzReadPixels(f *testing.F) {
	seed := func(rows int, grid []int64, gridName string) []byte {
		var b bytes.Buffer
		ts := []safetensors.Tensor{
			safetensors.F32Tensor(PixelValuesName, []int{rows, 8}, make([]float32, rows*8)),
			safetensors.I64Tensor(gridName, []int{len(grid) / 3, 3}, grid),
		}
		if err := safetensors.Write(&b, ts, nil); err != nil {
			f.Fatal(err)
		}
		return b.Bytes()
	}
	f.Add(seed(16, []int64{1, 4, 4}, ImageGridName))
	f.Add(seed(20, []int64{1, 4, 4, 1, 2, 2}, GridName))
	f.Add(seed(16, []int64{4096, 1 << 26, 1 << 26}, ImageGridName)) // wraps to 0 patches in int64
	f.Add(seed(16, []int64{1, 1 << 31, 1 << 31}, ImageGridName))
	f.Add(seed(16, []int64{1, -4, -4}, ImageGridName))
	f.Add([]byte("not a safetensors file"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "p.safetensors")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		items, err := ReadPixels(p)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Grid.T < 1 || it.Grid.H < 1 || it.Grid.W < 1 || len(it.Pixels) == 0 || len(it.Pixels)%it.Grid.Patches() != 0 {
				t.Fatalf("item %s: grid %v with %d values", it.Name, it.Grid, len(it.Pixels))
			}
		}
	})
}

// FuzzParseSpec feeds any -model value to ParseSpec, with a fake ollama store holding one
// model. It must not panic; an error names the spec; a GGUF spec has a file (an ollama one the
// store's blob, found through a manifest inside the store), a folder spec is the text itself,
// and an "ollama:" spec is never anything but GGUF.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"random:tiny", "Qwen/Qwen3-VL-2B-Instruct@main", "./ckpt", "x.gguf", "Org/x.gguf", "../testdata/gguf",
		"../testdata/gguf/mmproj-tiny-f32.gguf", "ollama:tiny", "ollama:tiny:latest", "ollama:a/b/c:d", "ollama:",
		"ollama:../../etc", "ollama:x:y:z", "ollama:hf.co/Org/Repo:Q8_0", "ollama:localhost:5000/ns/m:t", "ollama:qwen3-vl-tiny", "ollama:someone/tiny:q8", "ollama:wrong-size", "",
	} {
		f.Add(s)
	}
	store, _ := newOllamaStore(f)
	fuzzStore := store.root
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseSpec(text)
		if err != nil {
			if strings.TrimSpace(text) != "" && !strings.Contains(err.Error(), text) {
				t.Fatalf("ParseSpec(%q): error %q does not name the spec", text, err)
			}
			return
		}
		if s.Text != text {
			t.Fatalf("ParseSpec(%q).Text = %q", text, s.Text)
		}
		switch s.Kind {
		case GGUF:
			if s.Path == "" {
				t.Fatalf("ParseSpec(%q): GGUF spec without a file", text)
			}
			if strings.HasPrefix(text, OllamaPrefix) {
				rel, err := filepath.Rel(fuzzStore, s.Manifest)
				if err != nil || !filepath.IsLocal(rel) || filepath.Dir(s.Path) != filepath.Join(fuzzStore, "blobs") {
					t.Fatalf("ParseSpec(%q): manifest %q, blob %q outside the store", text, s.Manifest, s.Path)
				}
			}
		case Folder:
			if s.Path != text {
				t.Fatalf("ParseSpec(%q): folder %q", text, s.Path)
			}
		case Random, Hub:
		default:
			t.Fatalf("ParseSpec(%q): kind %v", text, s.Kind)
		}
		if strings.HasPrefix(text, OllamaPrefix) && s.Kind != GGUF {
			t.Fatalf("ParseSpec(%q): kind %v for an ollama spec", text, s.Kind)
		}
	})
}
