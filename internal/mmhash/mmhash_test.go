package mmhash

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const ecDir = "../../testdata/vllm/ec"

// goldenCase is one case of testdata/vllm/ec/cases.json, its kwargs as written (in order).
type goldenCase struct {
	File      string          `json:"file"`
	Model     string          `json:"model"`
	Algorithm string          `json:"algorithm"`
	Kwargs    json.RawMessage `json:"mm_processor_kwargs"`
	UUID      *string         `json:"uuid"`
}

// TestKeyGolden: every case's hash equals vLLM 0.34.0's own (ProcessorInputs.get_mm_hashes
// over MultiModalHasher, testdata/vllm/ec/hashes.json), the conversion taken from vLLM's
// io_config for the image: model ids, three algorithms, flat, scoped and ignored kwargs,
// values of every JSON kind, and client uuids.
func TestKeyGolden(t *testing.T) {
	var cases []goldenCase
	readJSON(t, filepath.Join(ecDir, "cases.json"), &cases)
	var golden struct {
		Images map[string]struct {
			IOConfig any `json:"io_config"`
		} `json:"images"`
		Cases []struct {
			Hash string `json:"mm_hash"`
		} `json:"cases"`
	}
	readJSON(t, filepath.Join(ecDir, "hashes.json"), &golden)
	if len(golden.Cases) != len(cases) || len(cases) < 10 {
		t.Fatalf("%d golden hashes for %d cases", len(golden.Cases), len(cases))
	}
	for i, c := range cases {
		k := Key{Algorithm: Algorithm(c.Algorithm), ModelID: c.Model}
		if k.Algorithm == "" {
			k.Algorithm = Blake3
		}
		if len(c.Kwargs) > 0 && string(c.Kwargs) != "null" {
			kw, err := ParseObject(c.Kwargs)
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			k.MMProcessorKwargs = kw
		}
		var got string
		var err error
		if c.UUID != nil {
			got, err = k.UUID(*c.UUID)
		} else {
			data, rerr := os.ReadFile(filepath.Join(ecDir, c.File))
			if rerr != nil {
				t.Fatal(rerr)
			}
			img, ok := golden.Images[c.File]
			if !ok {
				t.Fatalf("case %d: no image %s in hashes.json", i, c.File)
			}
			got, err = k.Image(Image{Data: data, Converted: img.IOConfig != nil})
		}
		if err != nil || got != golden.Cases[i].Hash {
			t.Errorf("case %d (%s, %s, %s, kwargs %s): %s %v, want %s", i, c.File, c.Model, k.Algorithm, c.Kwargs, got, err, golden.Cases[i].Hash)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestParseObject(t *testing.T) {
	m, err := ParseObject([]byte(`{"b": 1, "a": [1.0, 2e3, true, null, "x"], "c": {"z": -3}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || m[0].Key != "b" || m[0].Value != int64(1) || m[1].Key != "a" {
		t.Fatalf("order or kinds lost: %#v", m)
	}
	l := m[1].Value.([]any)
	if l[0] != 1.0 || l[1] != 2000.0 || l[2] != true || l[3] != nil || l[4] != "x" {
		t.Errorf("array: %#v", l)
	}
	if c := m[2].Value.(Map); c[0].Value != int64(-3) {
		t.Errorf("nested: %#v", c)
	}
	for _, tc := range []struct{ in, want string }{
		{`[1]`, "not a JSON object"},
		{`{"a": 1} {}`, "after the JSON object"},
		{`{"a": 1, "a": 2}`, "given twice"},
		{`{"a": 99999999999999999999}`, "outside int64"},
		{`{"a": 1e999}`, "out of range"},
		{`{"a": `, "invalid JSON"},
		{``, "invalid JSON"},
	} {
		if _, err := ParseObject([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseObject(%q): %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := Algorithm("md5").New(); err == nil || !strings.Contains(err.Error(), "blake3, sha256 and sha512") {
		t.Errorf("md5: %v", err)
	}
	if _, err := (Key{Algorithm: Blake3}).Image(Image{Data: []byte("x")}); err == nil || !strings.Contains(err.Error(), "model id") {
		t.Errorf("no model: %v", err)
	}
	if _, err := Kwargs(Blake3, Map{{"a", 1}}); err == nil || !strings.Contains(err.Error(), "cannot be hashed") {
		t.Errorf("an int: %v", err)
	}
	if _, err := Kwargs(Blake3, Map{{"a", "x"}, {"a", "y"}}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a key twice: %v", err)
	}
	// A uuid without hash factors is the hash itself (vLLM uses it as given).
	if h, err := (Key{Algorithm: Blake3, ModelID: "m"}).UUID("u-1"); h != "u-1" || err != nil {
		t.Errorf("uuid: %q %v", h, err)
	}
}
