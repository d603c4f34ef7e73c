package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// seedFiles returns small valid and invalid files to seed the fuzzers.
func seedFiles(t testing.TB) [][]byte {
	valid := encode(t, []Tensor{
		F32Tensor("a", []int{2}, []float32{1, 2}),
		{Name: "b", DType: BF16, Shape: []int{}, Data: []byte{0x80, 0x3f}},
		{Name: "c", DType: F16, Shape: []int{1, 1}, Data: []byte{0x00, 0x3c}},
		{Name: "d", DType: I32, Shape: []int{1}, Data: []byte{1, 2, 3, 4}},
		{Name: "e", DType: U8, Shape: []int{0}},
		I64Tensor("f", []int{1}, []int64{-5}),
		{Name: "g", DType: F4, Shape: []int{2}, Data: []byte{0x12}},
	}, map[string]string{"format": "pt"})
	return [][]byte{
		valid,
		valid[:len(valid)-3],
		encode(t, nil, nil),
		encode(t, allDTypeTensors(), nil),
		rawFile(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}`, nil),
		rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}`, make([]byte, 6)),
		rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)),
		rawFile(`{"__metadata__":{"k":1}}`, nil),
		{},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{'},
	}
}

// checkHeader verifies the invariants of a successfully parsed header.
func checkHeader(t *testing.T, h *Header, dataSize int64) {
	t.Helper()
	var pos int64
	names := map[string]bool{}
	for _, ti := range h.Tensors {
		if names[ti.Name] || ti.Name == metadataKey {
			t.Fatalf("duplicate or reserved name %q", ti.Name)
		}
		names[ti.Name] = true
		if ti.Begin != pos {
			t.Fatalf("tensor %q begins at %d, want %d", ti.Name, ti.Begin, pos)
		}
		size, err := byteSize(ti.DType, ti.Shape)
		if err != nil || ti.End-ti.Begin != size || ti.NumElements() < 0 {
			t.Fatalf("tensor %+v: size %d, %v", ti, size, err)
		}
		pos = ti.End
	}
	if pos != dataSize {
		t.Fatalf("tensors cover %d of %d bytes", pos, dataSize)
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, b := range seedFiles(f) {
		if len(b) >= 8 {
			n := binary.LittleEndian.Uint64(b)
			if n <= uint64(len(b)-8) {
				f.Add(b[8:8+n], int64(len(b)-8-int(n)))
				continue
			}
		}
		f.Add(b, int64(0))
	}
	f.Add([]byte(`{"__metadata__":null,"x":{"shape":[],"data_offsets":[0,1],"dtype":"BOOL"}}  `), int64(1))
	f.Fuzz(func(t *testing.T, b []byte, dataSize int64) {
		h, err := ParseHeader(b, dataSize)
		if err != nil {
			if h != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v with header %v, or not ErrInvalid", err, h)
			}
			return
		}
		checkHeader(t, h, dataSize)

		// Rewriting the tensors with zero data must give back the same
		// header. Write rejects empty names, which parsing accepts.
		if dataSize > 1<<20 {
			return
		}
		tensors := make([]Tensor, len(h.Tensors))
		for i, ti := range h.Tensors {
			if ti.Name == "" {
				return
			}
			tensors[i] = Tensor{Name: ti.Name, DType: ti.DType, Shape: ti.Shape, Data: make([]byte, ti.End-ti.Begin)}
		}
		out := encode(t, tensors, h.Metadata)
		n := binary.LittleEndian.Uint64(out)
		h2, err := ParseHeader(out[8:8+n], int64(len(out))-8-int64(n))
		if err != nil {
			t.Fatalf("reparsing the rewritten header: %v", err)
		}
		if !reflect.DeepEqual(h2.Tensors, h.Tensors) {
			t.Fatalf("rewritten tensors differ:\n%+v\n%+v", h2.Tensors, h.Tensors)
		}
		if len(h2.Metadata) != len(h.Metadata) || (len(h.Metadata) > 0 && !reflect.DeepEqual(h2.Metadata, h.Metadata)) {
			t.Fatalf("rewritten metadata differs: %v, %v", h2.Metadata, h.Metadata)
		}
	})
}

func FuzzOpen(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b)
	}
	// Each fuzzing worker is a separate process calling the target
	// sequentially, so one file per process suffices. It is rewritten in
	// place and then cut to length: truncating to zero (os.WriteFile) makes
	// ext4 flush on close, which slows fuzzing a hundredfold.
	fd, err := os.OpenFile(filepath.Join(f.TempDir(), "fuzz.safetensors"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		f.Fatal(err)
	}
	defer fd.Close()
	path := fd.Name()
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := fd.WriteAt(b, 0); err != nil {
			t.Fatal(err)
		}
		if err := fd.Truncate(int64(len(b))); err != nil {
			t.Fatal(err)
		}
		file, err := Open(path)
		if err != nil {
			if file != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v with file %v, or not ErrInvalid", err, file)
			}
			return
		}
		checkHeader(t, file.Header(), int64(len(b))-8-int64(binary.LittleEndian.Uint64(b)))
		for _, ti := range file.Header().Tensors {
			raw, err := file.Bytes(ti.Name)
			if err != nil || int64(len(raw)) != ti.End-ti.Begin {
				t.Fatalf("Bytes(%q): %d bytes, %v", ti.Name, len(raw), err)
			}
			fl, err := file.Float32(ti.Name)
			isFloat := ti.DType == F32 || ti.DType == F16 || ti.DType == BF16
			if (err == nil) != isFloat || (isFloat && int64(len(fl)) != ti.NumElements()) {
				t.Fatalf("Float32(%q) of %s: %d values, %v", ti.Name, ti.DType, len(fl), err)
			}
			in, err := file.Int64(ti.Name)
			isInt := ti.DType == I64 || ti.DType == I32
			if (err == nil) != isInt || (isInt && int64(len(in)) != ti.NumElements()) {
				t.Fatalf("Int64(%q) of %s: %d values, %v", ti.Name, ti.DType, len(in), err)
			}
		}
		if err := file.Close(); err != nil {
			t.Fatal(err)
		}
		if err := file.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := file.Bytes("x"); err == nil {
			t.Fatal("Bytes after Close succeeded")
		}
	})
}

// TestFuzzSeedsOpen makes sure the seeds exercise both the success and
// the failure paths of FuzzOpen.
func TestFuzzSeedsOpen(t *testing.T) {
	dir := t.TempDir()
	var opened []int
	for i, b := range seedFiles(t) {
		path := filepath.Join(dir, "seed.safetensors")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if f, err := Open(path); err == nil {
			opened = append(opened, i)
			f.Close()
		}
	}
	if want := []int{0, 2, 3}; !reflect.DeepEqual(opened, want) {
		t.Errorf("seeds %v open, want %v", opened, want)
	}
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(`{"metadata":{"total_size":12},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"../x"}}`))
	f.Add([]byte(`{"weight_map":{}}`))
	f.Add([]byte(`{"weight_map":{"a":"x","a":"y"}}`))
	f.Add([]byte(`{"weight_map":{"a":1}}`))
	f.Add([]byte(`{"metadata":[1,{"x":null}],"other":"s","weight_map":{"\u00e9":"\ud83d\ude00.safetensors"}}  `))
	f.Add([]byte(`{"weight_map":{"a":"sub/a.safetensors","b":"sub/./b.safetensors","c":"c\\d.safetensors","d":"/e.safetensors","e":"f.bin"}}`))
	f.Add([]byte(`{"weight_map":{"a":"a.safetensors"},"weight_map":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ix, err := ParseIndex(b)
		if err != nil {
			if ix != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v with index %v, or not ErrInvalid", err, ix)
			}
			return
		}
		m := ix.WeightMap
		if m == nil {
			t.Fatal("nil map without error")
		}
		// Re-encoding the weight map must give back the same map.
		again, err := json.Marshal(map[string]any{"weight_map": m})
		if err != nil {
			t.Fatal(err)
		}
		ix2, err := ParseIndex(again)
		if err != nil || !reflect.DeepEqual(m, ix2.WeightMap) {
			t.Fatalf("re-encoded index: %v, %v != %v", err, ix2, m)
		}
		// Every accepted shard name is a canonical local path to a .safetensors file.
		for _, shard := range m {
			p := filepath.FromSlash(shard)
			if !filepath.IsLocal(p) || filepath.Clean(p) != p || !strings.HasSuffix(shard, ".safetensors") || strings.Contains(shard, "\\") {
				t.Fatalf("shard %q accepted, but it is not a canonical local .safetensors path", shard)
			}
		}
	})
}
