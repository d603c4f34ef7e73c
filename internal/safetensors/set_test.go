package safetensors

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// visual keeps the vision-tower tensors, as the encoder does.
func visual(name string) bool { return strings.HasPrefix(name, "model.visual.") }

// writeIndex writes model.safetensors.index.json with the given weight map.
func writeIndex(t *testing.T, dir string, weightMap map[string]string) {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"metadata":   map[string]any{"total_size": 1234},
		"weight_map": weightMap,
	})
	if err != nil {
		t.Fatal(err)
	}
	writeBytes(t, dir, IndexFileName, b)
}

// shardedCheckpoint builds a three-shard checkpoint in a new directory: the
// vision tower in shard 1, language-model tensors in shards 2 and 3. Shard
// 3 is corrupt, so any attempt to open it fails.
func shardedCheckpoint(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeBytes(t, dir, "model-00001-of-00003.safetensors", encode(t, []Tensor{
		F32Tensor("model.visual.patch_embed.proj.weight", []int{2, 2}, []float32{1, 2, 3, 4}),
		BF16Tensor("model.visual.blocks.0.norm1.weight", []int{2}, []float32{0.5, -1}),
		I64Tensor("model.visual.positions", []int{2}, []int64{7, 8}),
		F32Tensor("model.language_model.layers.0.a", []int{1}, []float32{9}),
	}, nil))
	writeBytes(t, dir, "model-00002-of-00003.safetensors", encode(t, []Tensor{
		F32Tensor("model.language_model.embed_tokens.weight", []int{1}, []float32{5}),
	}, nil))
	writeBytes(t, dir, "model-00003-of-00003.safetensors", []byte("this is not a safetensors file"))
	writeIndex(t, dir, map[string]string{
		"model.visual.patch_embed.proj.weight":     "model-00001-of-00003.safetensors",
		"model.visual.blocks.0.norm1.weight":       "model-00001-of-00003.safetensors",
		"model.visual.positions":                   "model-00001-of-00003.safetensors",
		"model.language_model.layers.0.a":          "model-00001-of-00003.safetensors",
		"model.language_model.embed_tokens.weight": "model-00002-of-00003.safetensors",
		"lm_head.weight":                           "model-00003-of-00003.safetensors",
	})
	return dir
}

func TestOpenDirSharded(t *testing.T) {
	dir := shardedCheckpoint(t)
	s, err := OpenDir(dir, visual)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := []string{
		"model.visual.blocks.0.norm1.weight",
		"model.visual.patch_embed.proj.weight",
		"model.visual.positions",
	}
	if got := s.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	if len(s.files) != 1 {
		t.Errorf("%d files open, want 1", len(s.files))
	}
	if s.Dir() != dir {
		t.Errorf("Dir() = %q", s.Dir())
	}
	if got, err := s.Float32("model.visual.patch_embed.proj.weight"); err != nil || !reflect.DeepEqual(got, []float32{1, 2, 3, 4}) {
		t.Errorf("Float32 = %v, %v", got, err)
	}
	if got, err := s.Float32("model.visual.blocks.0.norm1.weight"); err != nil || !reflect.DeepEqual(got, []float32{0.5, -1}) {
		t.Errorf("Float32(bf16) = %v, %v", got, err)
	}
	if got, err := s.Int64("model.visual.positions"); err != nil || !reflect.DeepEqual(got, []int64{7, 8}) {
		t.Errorf("Int64 = %v, %v", got, err)
	}
	if b, err := s.Bytes("model.visual.blocks.0.norm1.weight"); err != nil || len(b) != 4 {
		t.Errorf("Bytes = %v, %v", b, err)
	}
	info, ok := s.Info("model.visual.patch_embed.proj.weight")
	if !ok || info.DType != F32 || !reflect.DeepEqual(info.Shape, []int{2, 2}) {
		t.Errorf("Info = %+v, %v", info, ok)
	}
	if f, ok := s.File("model.visual.positions"); !ok || filepath.Base(f.Path()) != "model-00001-of-00003.safetensors" {
		t.Errorf("File = %v, %v", f, ok)
	}
	// A tensor of an opened shard that was not kept is not visible.
	for _, name := range []string{"model.language_model.layers.0.a", "lm_head.weight", "nope"} {
		if _, ok := s.Info(name); ok {
			t.Errorf("Info(%q) found an unkept tensor", name)
		}
		_, err := s.Float32(name)
		checkErr(t, err, ErrNotFound, "safetensors: "+dir+": ", name)
		_, err = s.Bytes(name)
		checkErr(t, err, ErrNotFound)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOpenDirShardNotOpened(t *testing.T) {
	dir := shardedCheckpoint(t)
	// Remove shard 2 as well: neither the corrupt nor the missing shard
	// holds a kept tensor, so neither is looked at.
	if err := os.Remove(filepath.Join(dir, "model-00002-of-00003.safetensors")); err != nil {
		t.Fatal(err)
	}
	s, err := OpenDir(dir, visual)
	if err != nil {
		t.Fatalf("OpenDir touched an unneeded shard: %v", err)
	}
	s.Close()

	// Keeping everything must open the corrupt shard and fail.
	_, err = OpenDir(dir, nil)
	checkErr(t, err, nil, "safetensors: ", "model-0000")
}

func TestOpenDirKeepAll(t *testing.T) {
	dir := shardedCheckpoint(t)
	writeBytes(t, dir, "model-00003-of-00003.safetensors", encode(t, []Tensor{
		F32Tensor("lm_head.weight", []int{1}, []float32{6}),
	}, nil))
	s, err := OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := len(s.Names()); n != 6 {
		t.Errorf("%d tensors, want 6", n)
	}
	if len(s.files) != 3 {
		t.Errorf("%d files open, want 3", len(s.files))
	}
}

func TestOpenDirIndexErrors(t *testing.T) {
	shard := "model-00001-of-00003.safetensors"
	tests := []struct {
		name   string
		index  string // contents of the index file
		setup  func(t *testing.T, dir string)
		target error
		want   []string
	}{
		{
			name:   "missing shard",
			index:  `{"weight_map":{"model.visual.x":"model-00009-of-00009.safetensors"}}`,
			target: fs.ErrNotExist,
			want:   []string{"model-00009-of-00009.safetensors", "shard listed in " + IndexFileName},
		},
		{
			name:   "parent directory",
			index:  `{"weight_map":{"model.visual.x":"../outside.safetensors"}}`,
			target: ErrInvalid,
			want:   []string{IndexFileName, `tensor "model.visual.x"`, `shard path "../outside.safetensors"`},
		},
		{
			name:   "parent directory in the middle",
			index:  `{"weight_map":{"model.visual.x":"sub/../../outside.safetensors"}}`,
			target: ErrInvalid,
			want:   []string{"not a file name inside the checkpoint directory"},
		},
		{
			name:   "absolute path",
			index:  `{"weight_map":{"model.visual.x":"/etc/passwd"}}`,
			target: ErrInvalid,
			want:   []string{`shard path "/etc/passwd"`},
		},
		{
			name:   "traversal in a tensor that is not kept",
			index:  `{"weight_map":{"lm_head.weight":"../outside.safetensors"}}`,
			target: ErrInvalid,
			want:   []string{`tensor "lm_head.weight"`, "../outside.safetensors"},
		},
		{
			name:   "empty shard name",
			index:  `{"weight_map":{"model.visual.x":""}}`,
			target: ErrInvalid,
			want:   []string{`shard path ""`},
		},
		{
			name:   "tensor absent from its shard",
			index:  `{"weight_map":{"model.visual.x":"` + shard + `"}}`,
			target: ErrInvalid,
			want:   []string{shard, `tensor "model.visual.x" is listed in ` + IndexFileName + " but absent"},
		},
		{
			name:   "invalid JSON",
			index:  `{"weight_map":{"model.visual.x":`,
			target: ErrInvalid,
			want:   []string{IndexFileName, "index is not valid JSON"},
		},
		{
			name:   "not an object",
			index:  `["weight_map"]`,
			target: ErrInvalid,
			want:   []string{IndexFileName, "expected \"{\""},
		},
		{
			name:   "no weight_map",
			index:  `{"metadata":{}}`,
			target: ErrInvalid,
			want:   []string{`no "weight_map"`},
		},
		{
			name:   "weight_map not an object",
			index:  `{"weight_map":[]}`,
			target: ErrInvalid,
			want:   []string{"weight_map", "an array"},
		},
		{
			name:   "shard not a string",
			index:  `{"weight_map":{"model.visual.x":1}}`,
			target: ErrInvalid,
			want:   []string{`tensor "model.visual.x" maps to the number 1`},
		},
		{
			name:   "duplicate tensor",
			index:  `{"weight_map":{"model.visual.x":"a.safetensors","model.visual.x":"b.safetensors"}}`,
			target: ErrInvalid,
			want:   []string{`duplicate key "model.visual.x"`},
		},
		{
			name:   "trailing data",
			index:  `{"weight_map":{}} {}`,
			target: ErrInvalid,
			want:   []string{"after the top-level object"},
		},
		{
			name:   "invalid UTF-8",
			index:  "{\"weight_map\":{\"\xff\":\"a\"}}",
			target: ErrInvalid,
			want:   []string{"UTF-8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeBytes(t, dir, shard, encode(t, []Tensor{F32Tensor("model.visual.y", []int{1}, []float32{1})}, nil))
			writeBytes(t, filepath.Dir(dir), "outside.safetensors", encode(t, []Tensor{F32Tensor("model.visual.x", []int{1}, []float32{1})}, nil))
			writeBytes(t, dir, IndexFileName, []byte(tt.index))
			s, err := OpenDir(dir, visual)
			if s != nil {
				t.Error("got a Set with the error")
			}
			checkErr(t, err, tt.target, append([]string{"safetensors: " + dir}, tt.want...)...)
		})
	}
}

func TestOpenDirShardInSubdirectory(t *testing.T) {
	dir := t.TempDir()
	writeBytes(t, dir, "sub/a.safetensors", encode(t, []Tensor{F32Tensor("model.visual.x", []int{1}, []float32{1})}, nil))
	writeIndex(t, dir, map[string]string{"model.visual.x": "sub/a.safetensors"})
	s, err := OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Names(); !reflect.DeepEqual(got, []string{"model.visual.x"}) {
		t.Errorf("Names() = %q", got)
	}
}

func TestOpenDirSingleFile(t *testing.T) {
	dir := t.TempDir()
	writeBytes(t, dir, SingleFileName, encode(t, []Tensor{
		F32Tensor("model.visual.a", []int{1}, []float32{1}),
		F32Tensor("model.language_model.b", []int{1}, []float32{2}),
	}, nil))
	// A stale index next to model.safetensors is ignored, as transformers
	// does.
	writeBytes(t, dir, IndexFileName, []byte("not JSON"))
	s, err := OpenDir(dir, visual)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Names(); !reflect.DeepEqual(got, []string{"model.visual.a"}) {
		t.Errorf("Names() = %q", got)
	}

	// Nothing kept: an empty set, not an error.
	s2, err := OpenDir(dir, func(string) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if len(s2.Names()) != 0 || len(s2.files) != 0 {
		t.Errorf("Names() = %q, %d files", s2.Names(), len(s2.files))
	}

	// A corrupt single file is an error naming it.
	writeBytes(t, dir, SingleFileName, []byte("garbage!!"))
	_, err = OpenDir(dir, visual)
	checkErr(t, err, ErrInvalid, filepath.Join(dir, SingleFileName))
}

func TestOpenDirAllFiles(t *testing.T) {
	dir := t.TempDir()
	writeBytes(t, dir, "a.safetensors", encode(t, []Tensor{
		F32Tensor("model.visual.a", []int{1}, []float32{1}),
		F32Tensor("model.language_model.b", []int{1}, []float32{2}),
	}, nil))
	writeBytes(t, dir, "b.safetensors", encode(t, []Tensor{F32Tensor("model.language_model.c", []int{1}, []float32{3})}, nil))
	writeBytes(t, dir, "c.safetensors", encode(t, []Tensor{F32Tensor("model.visual.d", []int{1}, []float32{4})}, nil))
	writeBytes(t, dir, "notes.txt", []byte("ignored"))
	if err := os.Mkdir(filepath.Join(dir, "dir.safetensors"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := OpenDir(dir, visual)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Names(); !reflect.DeepEqual(got, []string{"model.visual.a", "model.visual.d"}) {
		t.Errorf("Names() = %q", got)
	}
	if len(s.files) != 2 {
		t.Errorf("%d files kept open, want 2 (b.safetensors holds nothing kept)", len(s.files))
	}
	if got, err := s.Float32("model.visual.d"); err != nil || got[0] != 4 {
		t.Errorf("Float32 = %v, %v", got, err)
	}
	s.Close()

	// The same name in two files is ambiguous.
	writeBytes(t, dir, "d.safetensors", encode(t, []Tensor{F32Tensor("model.language_model.c", []int{1}, []float32{3})}, nil))
	_, err = OpenDir(dir, visual)
	checkErr(t, err, ErrInvalid, "safetensors: "+dir+": ", `tensor "model.language_model.c" is in both b.safetensors and d.safetensors`)
}

func TestOpenDirEmpty(t *testing.T) {
	dir := t.TempDir()
	writeBytes(t, dir, "config.json", []byte("{}"))
	_, err := OpenDir(dir, nil)
	checkErr(t, err, fs.ErrNotExist, "safetensors: "+dir+": ", "no model.safetensors")

	_, err = OpenDir(filepath.Join(dir, "missing"), nil)
	checkErr(t, err, fs.ErrNotExist, "safetensors: "+filepath.Join(dir, "missing"))
}
