package pipeline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/mmhash"
)

const ecDir = vllmDir + "/ec"

// TestVLLMImageHashGolden: for every image of testdata/vllm/ec/hashes.json, VLLMImageHash
// gives vLLM 0.34.0's own mm_hash (computed by its MediaConnector, parser, get_mm_hashes and
// MultiModalHasher in tools/reference/vllm_ec_check.py) with the default key, and refuses
// exactly the images whose vLLM-loaded pixels are not what this encoder encodes (composited
// transparency) and 16-bit gray. The verdicts of the connector runs add their hashes with
// other models, algorithms and kwargs.
func TestVLLMImageHashGolden(t *testing.T) {
	var golden struct {
		Images map[string]struct {
			Mode    string `json:"pillow_mode"`
			SameRGB bool   `json:"vllm_rgb_equals_hf_rgb"`
		} `json:"images"`
		Cases []struct {
			File   string  `json:"file"`
			Model  string  `json:"model"`
			Algo   string  `json:"algorithm"`
			Kwargs string  `json:"mm_processor_kwargs_json"`
			UUID   *string `json:"uuid"`
			Hash   string  `json:"mm_hash"`
		} `json:"cases"`
	}
	readGoldenJSON(t, filepath.Join(ecDir, "hashes.json"), &golden)
	checked, refused := 0, 0
	for _, c := range golden.Cases {
		if c.UUID != nil || c.Algo != "" || len(c.Kwargs) > 0 || c.Model != "Qwen/Qwen3-VL-2B-Instruct" {
			continue // the other cases are internal/mmhash's
		}
		data, err := os.ReadFile(filepath.Join(ecDir, c.File))
		if err != nil {
			t.Fatal(err)
		}
		img := golden.Images[c.File]
		got, err := VLLMImageHash(mmhash.Key{Algorithm: mmhash.Blake3, ModelID: c.Model}, c.File, data)
		if !img.SameRGB || img.Mode == "I;16" {
			refused++
			if err == nil || !strings.Contains(err.Error(), c.File) || !strings.Contains(err.Error(), "would not be vLLM's") {
				t.Errorf("%s: %q, %v; want it refused, naming the file", c.File, got, err)
			}
			continue
		}
		checked++
		if err != nil || got != c.Hash {
			t.Errorf("%s: %s %v, want %s", c.File, got, err, c.Hash)
		}
	}
	if checked < 40 || refused < 8 {
		t.Errorf("%d images hashed, %d refused: the golden lost cases", checked, refused)
	}
	verdicts, _ := filepath.Glob(filepath.Join(ecDir, "verdict*.json"))
	entries := 0
	for _, vp := range verdicts {
		if filepath.Base(vp) == "verdict_refs.json" {
			continue // TestVLLMECRefsGolden's
		}
		var v struct {
			Model   string `json:"model"`
			Algo    string `json:"algorithm"`
			Kwargs  string `json:"mm_processor_kwargs_json"`
			OK      bool   `json:"all_found_and_bit_identical"`
			Entries []struct {
				Image string `json:"image"`
				Hash  string `json:"mm_hash"`
			} `json:"entries"`
		}
		readGoldenJSON(t, vp, &v)
		if !v.OK {
			t.Errorf("%s does not say all_found_and_bit_identical", vp)
		}
		key := mmhash.Key{Algorithm: mmhash.Algorithm(v.Algo), ModelID: v.Model}
		if v.Kwargs != "" {
			kw, err := mmhash.ParseObject([]byte(v.Kwargs))
			if err != nil {
				t.Fatal(err)
			}
			key.MMProcessorKwargs = kw
		}
		for _, e := range v.Entries {
			data, err := os.ReadFile(filepath.Join("..", e.Image))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := VLLMImageHash(key, e.Image, data); err != nil || got != e.Hash {
				t.Errorf("%s: %s: %s %v, want %s", vp, e.Image, got, err, e.Hash)
			}
			entries++
		}
	}
	if entries < 70 {
		t.Errorf("%d verdict entries", entries)
	}
}

func readGoldenJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestVLLMECEntryGolden: the entries written for testdata/vllm/features.safetensors are
// byte-identical to those under testdata/vllm/ec/entries, which vLLM 0.34.0's
// ECExampleConnector found by their hash and loaded to exactly those features
// (testdata/vllm/ec/verdict.json).
func TestVLLMECEntryGolden(t *testing.T) {
	var v struct {
		OK      bool `json:"all_found_and_bit_identical"`
		Entries []struct {
			Hash  string `json:"mm_hash"`
			Shape []int  `json:"shape"`
		} `json:"entries"`
	}
	readGoldenJSON(t, filepath.Join(ecDir, "verdict.json"), &v)
	f := readFeatures(t, vllmDir+"/features.safetensors")
	if !v.OK || len(v.Entries) != len(f.Items) {
		t.Fatalf("verdict.json: ok %v, %d entries for %d items", v.OK, len(v.Entries), len(f.Items))
	}
	for i, e := range v.Entries {
		got, err := f.VLLMECEntry(i)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(ecDir, "entries", e.Hash, VLLMECFile))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("item %d: entry differs from %s's", i, e.Hash)
		}
	}
	if _, err := f.VLLMECEntry(len(f.Items)); err == nil {
		t.Error("an item past the end: no error")
	}
	video := f
	video.Items = append([]Item(nil), f.Items...)
	video.Items[0].Video = true
	if _, err := video.VLLMECEntry(0); err == nil || !strings.Contains(err.Error(), "video") {
		t.Errorf("a video: %v", err)
	}
}

// TestWriteVLLMEC: the entry goes to root/hash/encoder_cache.safetensors; the same bytes again
// leave the file alone, other bytes replace it; a hash that is not one folder name is refused.
func TestWriteVLLMEC(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "abc", VLLMECFile)
	if wrote, err := WriteVLLMEC(root, "abc", []byte("one")); !wrote || err != nil {
		t.Fatalf("first write: %v %v", wrote, err)
	}
	st1, _ := os.Stat(path)
	if wrote, err := WriteVLLMEC(root, "abc", []byte("one")); wrote || err != nil {
		t.Errorf("same entry again: wrote %v, %v", wrote, err)
	}
	st2, _ := os.Stat(path)
	if !os.SameFile(st1, st2) {
		t.Error("the identical entry was rewritten")
	}
	if wrote, err := WriteVLLMEC(root, "abc", []byte("other, longer")); !wrote || err != nil {
		t.Errorf("another entry: %v %v", wrote, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "other, longer" {
		t.Errorf("entry holds %q", b)
	}
	for _, bad := range []string{"", ".", "..", "a/b", `a\b`, "a\x00"} {
		if _, err := WriteVLLMEC(root, bad, []byte("x")); err == nil {
			t.Errorf("hash %q: no error", bad)
		}
	}
}

func TestVLLMPixelBounds(t *testing.T) {
	for _, tc := range []struct {
		kw       string
		min, max int
		err      string
	}{
		{`{}`, 0, 0, ""},
		{`{"max_pixels": 200704}`, 0, 200704, ""},
		{`{"min_pixels": 1024, "max_pixels": 65536}`, 1024, 65536, ""},
		{`{"size": {"shortest_edge": 3136, "longest_edge": 200704}}`, 3136, 200704, ""},
		{`{"size": {"longest_edge": 200704}, "max_pixels": 100000}`, 0, 100000, ""},
		{`{"images_kwargs": {"min_pixels": 1024}}`, 1024, 0, ""},
		{`{"max_pixels": 5000, "videos_kwargs": {"fps": 1}, "audio_kwargs": {}}`, 0, 5000, ""},
		{`{"max_pixels": 5000, "images_kwargs": {"max_pixels": 6000}}`, 0, 0, "one place"},
		{`{"do_resize": false}`, 0, 0, "do_resize"},
		{`{"images_kwargs": {"patch_size": 14}}`, 0, 0, "images_kwargs.patch_size"},
		{`{"images_kwargs": {"images_kwargs": {}}}`, 0, 0, "not allowed"},
		{`{"max_pixels": 1.5}`, 0, 0, "positive integer"},
		{`{"max_pixels": -3}`, 0, 0, "positive integer"},
		{`{"size": 5}`, 0, 0, "want an object"},
		{`{"size": {"height": 5}}`, 0, 0, "shortest_edge or longest_edge"},
		{`{"images_kwargs": 3}`, 0, 0, "want an object"},
	} {
		kw, err := mmhash.ParseObject([]byte(tc.kw))
		if err != nil {
			t.Fatal(err)
		}
		lo, hi, err := VLLMPixelBounds(kw)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %q", tc.kw, err, tc.err)
			}
			continue
		}
		if err != nil || lo != tc.min || hi != tc.max {
			t.Errorf("%s: %d %d %v, want %d %d", tc.kw, lo, hi, err, tc.min, tc.max)
		}
	}
}

// TestVLLMECRefsGolden: the metadata-only parts written for testdata/vllm/features.safetensors
// are byte-identical to testdata/vllm/ec/refs.json, which vLLM 0.34.0's own parsing accepted as
// an EC consumer's (verdict_refs.json: fields, grid, the identifier get_mm_hashes derives from
// each uuid, the connector's lookup and a bit-identical load); our identifier is vLLM's, and
// the entry under it is this item's.
func TestVLLMECRefsGolden(t *testing.T) {
	var v struct {
		OK     bool   `json:"all_accepted_found_and_bit_identical"`
		Model  string `json:"model"`
		Kwargs string `json:"mm_processor_kwargs_json"`
		Parts  []struct {
			UUID string `json:"uuid"`
			ID   string `json:"identifier"`
		} `json:"parts"`
	}
	readGoldenJSON(t, filepath.Join(ecDir, "verdict_refs.json"), &v)
	f := readFeatures(t, vllmDir+"/features.safetensors")
	if !v.OK || len(v.Parts) != len(f.Items) {
		t.Fatalf("verdict_refs.json: ok %v, %d parts for %d items", v.OK, len(v.Parts), len(f.Items))
	}
	kw, err := mmhash.ParseObject([]byte(v.Kwargs))
	if err != nil {
		t.Fatal(err)
	}
	key := mmhash.Key{Algorithm: mmhash.Blake3, ModelID: v.Model, MMProcessorKwargs: kw}
	var uuids []string
	for i, p := range v.Parts {
		uuids = append(uuids, p.UUID)
		if id, err := key.UUID(p.UUID); err != nil || id != p.ID {
			t.Errorf("part %d: identifier %s %v, vLLM's %s", i, id, err, p.ID)
		}
		entry, err := f.VLLMECEntry(i)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(filepath.Join(ecDir, "entries", p.ID, VLLMECFile)); err != nil || !bytes.Equal(got, entry) {
			t.Errorf("part %d: the entry under %s is not the item's (%v)", i, p.ID, err)
		}
	}
	var buf bytes.Buffer
	if err := f.WriteVLLMECRefs(&buf, uuids); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(ecDir, "refs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("parts:\n%s\nwant:\n%s", buf.Bytes(), want)
	}
	if err := f.WriteVLLMECRefs(&buf, uuids[:1]); err == nil {
		t.Error("one uuid for two items: no error")
	}
}
