package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/half"
)

// testBytes returns n deterministic pseudo-random bytes.
func testBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

// allDTypeTensors returns, for every dtype, a 2-D tensor, plus a scalar and
// an empty tensor for every dtype with whole-byte elements.
func allDTypeTensors() []Tensor {
	var ts []Tensor
	for i, d := range DTypes() {
		shape := []int{2, 3}
		switch d.BitSize() {
		case 4:
			shape = []int{2, 4}
		case 6:
			shape = []int{4, 2}
		}
		n, _ := byteSize(d, shape)
		ts = append(ts, Tensor{Name: "t." + string(d), DType: d, Shape: shape, Data: testBytes(int(n), byte(i))})
		if d.Size() > 0 {
			ts = append(ts,
				Tensor{Name: "scalar." + string(d), DType: d, Shape: []int{}, Data: testBytes(d.Size(), byte(i+100))},
				Tensor{Name: "empty." + string(d), DType: d, Shape: []int{3, 0}, Data: []byte{}})
		}
	}
	return ts
}

func TestRoundTripEveryDType(t *testing.T) {
	tensors := allDTypeTensors()
	meta := map[string]string{"format": "pt", "note": "<&> \"quoted\" é"}
	path := filepath.Join(t.TempDir(), "all.safetensors")
	if err := WriteFile(path, tensors, meta); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if streamed := encode(t, tensors, meta); !bytes.Equal(onDisk, streamed) {
		t.Error("WriteFile and Write produce different bytes")
	}
	if n := binary.LittleEndian.Uint64(onDisk); n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}

	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Path() != path {
		t.Errorf("Path() = %q", f.Path())
	}
	if !reflect.DeepEqual(f.Header().Metadata, meta) {
		t.Errorf("metadata = %v, want %v", f.Header().Metadata, meta)
	}
	if len(f.Header().Tensors) != len(tensors) {
		t.Fatalf("%d tensors, want %d", len(f.Header().Tensors), len(tensors))
	}
	var offset int64
	for _, want := range tensors {
		info, ok := f.Info(want.Name)
		if !ok {
			t.Fatalf("tensor %q missing", want.Name)
		}
		wantInfo := TensorInfo{Name: want.Name, DType: want.DType, Shape: want.Shape,
			Begin: offset, End: offset + int64(len(want.Data))}
		if !reflect.DeepEqual(info, wantInfo) {
			t.Errorf("Info(%q) = %+v, want %+v", want.Name, info, wantInfo)
		}
		offset = wantInfo.End
		got, err := f.Bytes(want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Data) {
			t.Errorf("Bytes(%q) = %x, want %x", want.Name, got, want.Data)
		}
	}
}

func TestHeaderLayoutMatchesReference(t *testing.T) {
	// The bytes the reference implementation writes for
	// save_file({"a": torch.tensor([1.0])}, metadata={"format": "pt"}).
	want := `{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
	want += strings.Repeat(" ", (8-len(want)%8)%8)
	b := encode(t, []Tensor{F32Tensor("a", []int{1}, []float32{1})}, map[string]string{"format": "pt"})
	n := binary.LittleEndian.Uint64(b)
	if got := string(b[8 : 8+n]); got != want {
		t.Errorf("header\n got %q\nwant %q", got, want)
	}
	if got := b[8+n:]; !bytes.Equal(got, []byte{0, 0, 0x80, 0x3f}) {
		t.Errorf("data = %x", got)
	}
}

func TestFloat32Conversions(t *testing.T) {
	vals := []float32{1, -2, 0.5, float32(math.Inf(1)), 0x1p-24}
	f16 := []uint16{0x3c00, 0xc000, 0x3800, 0x7c00, 0x0001}
	bf16 := make([]uint16, len(vals))
	for i, v := range vals {
		bf16[i] = half.F32ToBF16(v)
	}
	le16 := func(v []uint16) []byte {
		b := make([]byte, 0, 2*len(v))
		for _, x := range v {
			b = binary.LittleEndian.AppendUint16(b, x)
		}
		return b
	}
	path := filepath.Join(t.TempDir(), "conv.safetensors")
	err := WriteFile(path, []Tensor{
		F32Tensor("f32", []int{5}, vals),
		{Name: "f16", DType: F16, Shape: []int{5}, Data: le16(f16)},
		{Name: "bf16", DType: BF16, Shape: []int{5}, Data: le16(bf16)},
		I64Tensor("i64", []int{3}, []int64{-1, 1 << 40, 7}),
		{Name: "i32", DType: I32, Shape: []int{3}, Data: []byte{0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0, 0, 0x80}},
		{Name: "u8", DType: U8, Shape: []int{2}, Data: []byte{1, 2}},
		{Name: "f64", DType: F64, Shape: []int{}, Data: make([]byte, 8)},
		{Name: "empty", DType: F32, Shape: []int{0}, Data: nil},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Header().Metadata != nil {
		t.Errorf("metadata = %v, want nil", f.Header().Metadata)
	}
	for _, name := range []string{"f32", "f16", "bf16"} {
		got, err := f.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, vals) {
			t.Errorf("Float32(%q) = %v, want %v", name, got, vals)
		}
	}
	if got, err := f.Float32("empty"); err != nil || len(got) != 0 {
		t.Errorf("Float32(empty) = %v, %v", got, err)
	}
	if got, err := f.Int64("i64"); err != nil || !reflect.DeepEqual(got, []int64{-1, 1 << 40, 7}) {
		t.Errorf("Int64(i64) = %v, %v", got, err)
	}
	if got, err := f.Int64("i32"); err != nil || !reflect.DeepEqual(got, []int64{-1, 2, math.MinInt32}) {
		t.Errorf("Int64(i32) = %v, %v", got, err)
	}

	// The returned slices are copies.
	a, _ := f.Float32("f32")
	a[0] = 42
	if b, _ := f.Float32("f32"); b[0] != 1 {
		t.Error("Float32 returned shared storage")
	}

	wrong := []struct {
		name string
		call func(string) error
		want []string
	}{
		{"u8", func(n string) error { _, err := f.Float32(n); return err }, []string{`tensor "u8"`, "dtype U8"}},
		{"f64", func(n string) error { _, err := f.Float32(n); return err }, []string{`tensor "f64"`, "dtype F64"}},
		{"i64", func(n string) error { _, err := f.Float32(n); return err }, []string{`tensor "i64"`, "dtype I64"}},
		{"f32", func(n string) error { _, err := f.Int64(n); return err }, []string{`tensor "f32"`, "dtype F32"}},
		{"u8", func(n string) error { _, err := f.Int64(n); return err }, []string{`tensor "u8"`, "dtype U8"}},
	}
	for _, w := range wrong {
		checkErr(t, w.call(w.name), nil, append([]string{"safetensors: " + path + ": "}, w.want...)...)
	}
}

func TestFileMissingTensorAndClose(t *testing.T) {
	path := writeBytes(t, t.TempDir(), "a.safetensors", encode(t, []Tensor{F32Tensor("a", []int{1}, []float32{3})}, nil))
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Info("nope"); ok {
		t.Error("Info(nope) found something")
	}
	_, err = f.Bytes("nope")
	checkErr(t, err, ErrNotFound, path, `tensor "nope"`)
	_, err = f.Float32("nope")
	checkErr(t, err, ErrNotFound)
	_, err = f.Int64("nope")
	checkErr(t, err, ErrNotFound)

	info, _ := f.Info("a")
	info.Shape[0] = 99
	if again, _ := f.Info("a"); again.Shape[0] != 1 {
		t.Error("Info returned shared shape storage")
	}

	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err = f.Bytes("a")
	checkErr(t, err, nil, path, "closed")
	_, err = f.Float32("a")
	checkErr(t, err, nil, "closed")
	if _, ok := f.Info("a"); !ok {
		t.Error("Info fails after Close")
	}
}

func TestOpenErrors(t *testing.T) {
	valid := encode(t, []Tensor{F32Tensor("a", []int{2}, []float32{1, 2})}, nil)
	lenPrefix := func(n uint64, rest string) []byte {
		return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
	}
	tests := []struct {
		name   string
		data   []byte
		target error
		want   []string
	}{
		{"empty file", nil, ErrInvalid, []string{"0 bytes, too short"}},
		{"short prefix", []byte{1, 0, 0}, ErrInvalid, []string{"3 bytes, too short"}},
		{"header longer than file", lenPrefix(100, "{}"), ErrInvalid, []string{"header length 100 exceeds the 2 bytes"}},
		{"header length over limit", lenPrefix(MaxHeaderSize+1, "{}"), ErrInvalid, []string{"exceeds the limit"}},
		{"header length huge", lenPrefix(math.MaxUint64, "{}"), ErrInvalid, []string{"exceeds the limit"}},
		{"zero header length", lenPrefix(0, ""), ErrInvalid, []string{"does not start with '{'"}},
		{"not JSON", rawFile("{x", nil), ErrInvalid, []string{"not valid JSON"}},
		{"not an object", rawFile("[]", nil), ErrInvalid, []string{"does not start with '{'"}},
		{"data missing", valid[:len(valid)-1], ErrInvalid, []string{`tensor "a"`, "exceed the data section of 7 bytes"}},
		{"extra data", append(append([]byte{}, valid...), 0), ErrInvalid, []string{"cover 8 bytes of the 9-byte"}},
		{"unknown dtype", rawFile(`{"a":{"dtype":"X","shape":[],"data_offsets":[0,0]}}`, nil), ErrInvalid,
			[]string{`tensor "a"`, `unknown dtype "X"`}},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeBytes(t, dir, fmt.Sprintf("f%d.safetensors", i), tt.data)
			f, err := Open(path)
			if f != nil {
				t.Error("got a File with the error")
			}
			checkErr(t, err, tt.target, append([]string{"safetensors: " + path + ": "}, tt.want...)...)
		})
	}

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(dir, "missing.safetensors")
		_, err := Open(path)
		checkErr(t, err, fs.ErrNotExist, "safetensors: "+path+": ")
		if strings.Count(err.Error(), path) != 1 {
			t.Errorf("error %q repeats the path", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		_, err := Open(dir)
		checkErr(t, err, nil, "safetensors: "+dir+": ", "not a regular file")
	})
}

// TestOpenTruncated cuts a small valid file at every length: every prefix
// must be rejected, without panicking.
func TestOpenTruncated(t *testing.T) {
	valid := encode(t, []Tensor{
		F32Tensor("a", []int{2}, []float32{1, 2}),
		{Name: "b", DType: BF16, Shape: []int{}, Data: []byte{0x80, 0x3f}},
		{Name: "c", DType: U8, Shape: []int{0}},
	}, map[string]string{"k": "v"})
	dir := t.TempDir()
	path := writeBytes(t, dir, "full.safetensors", valid)
	f, err := Open(path)
	if err != nil {
		t.Fatalf("full file: %v", err)
	}
	f.Close()
	for n := 0; n < len(valid); n++ {
		path := writeBytes(t, dir, "cut.safetensors", valid[:n])
		f, err := Open(path)
		if err == nil {
			f.Close()
			t.Fatalf("prefix of %d/%d bytes opened without error", n, len(valid))
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("prefix of %d bytes: error %v does not match ErrInvalid", n, err)
		}
	}
}

func TestFileConcurrentUse(t *testing.T) {
	path := writeBytes(t, t.TempDir(), "c.safetensors", encode(t, []Tensor{
		F32Tensor("a", []int{1000}, make([]float32, 1000)),
		BF16Tensor("b", []int{1000}, make([]float32, 1000)),
	}, nil))
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 100 {
				// After Close these fail cleanly instead of touching
				// unmapped memory.
				if v, err := f.Float32("b"); err == nil && len(v) != 1000 {
					t.Errorf("Float32: %d values", len(v))
				}
				f.Info("a")
			}
		}()
	}
	f.Close()
	for range 4 {
		<-done
	}
}
