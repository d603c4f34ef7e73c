package gguf

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

const fixture = "../../testdata/gguf/types.gguf"

// The fixture written by llama.cpp's gguf-py (tools/reference/gguf_fixtures.py): every value
// type, every readable dtype, values equal bit for bit to gguf-py's own dequantization.
func TestFixture(t *testing.T) {
	f, err := Open(fixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Version != 3 || f.Alignment != 64 || f.DataOffset%64 != 0 {
		t.Errorf("version %d, alignment %d, data at %d", f.Version, f.Alignment, f.DataOffset)
	}
	ints := []struct {
		key  string
		want int64
	}{
		{"test.u8", 200}, {"test.i8", -100}, {"test.u16", 60000}, {"test.i16", -30000},
		{"test.u32", 4000000000}, {"test.i32", -2000000000}, {"test.i64", -(1 << 62)}, {KeyAlignment, 64},
	}
	for _, c := range ints {
		if got, err := f.Int(c.key); err != nil || got != c.want {
			t.Errorf("Int(%s) = %d, %v; want %d", c.key, got, err, c.want)
		}
	}
	if v, ok := f.Get("test.u64"); !ok || v.Type != TypeUint64 {
		t.Errorf("test.u64: %v", v)
	} else if _, ok := v.Int(); ok {
		t.Error("test.u64 = 2⁶³+5 converted to int64")
	}
	if got, err := f.Float("test.f32"); err != nil || got != float64(float32(0.1)) {
		t.Errorf("Float(test.f32) = %v, %v", got, err)
	}
	if got, err := f.Float("test.f64"); err != nil || got != 1e-300 {
		t.Errorf("Float(test.f64) = %v, %v", got, err)
	}
	if got, err := f.Bool("test.bool"); err != nil || !got {
		t.Errorf("Bool(test.bool) = %v, %v", got, err)
	}
	if got, err := f.String("test.string"); err != nil || got != "qwen3vl_merger ✓" {
		t.Errorf("String(test.string) = %q, %v", got, err)
	}
	if got, err := f.String("general.architecture"); err != nil || got != "clip" {
		t.Errorf("String(general.architecture) = %q, %v", got, err)
	}
	if got, err := f.Ints("test.ints"); err != nil || !slices.Equal(got, []int64{1, -2, 3}) {
		t.Errorf("Ints = %v, %v", got, err)
	}
	if got, err := f.Floats("test.floats"); err != nil || !slices.Equal(got, []float64{0.5, -1.25}) {
		t.Errorf("Floats = %v, %v", got, err)
	}
	if got, err := f.Bools("test.bools"); err != nil || !slices.Equal(got, []bool{true, false, true}) {
		t.Errorf("Bools = %v, %v", got, err)
	}
	if v, _ := f.Get("test.strings"); !slices.Equal(must(v.Strings()), []string{"a", "", "ünïcode"}) {
		t.Errorf("test.strings = %v", v)
	}
	for _, c := range []struct{ key, want string }{
		{"test.string", "want an integer"}, {"absent.key", "no such key"},
	} {
		if _, err := f.Int(c.key); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), fixture) {
			t.Errorf("Int(%s): %v, want %q and the file", c.key, err, c.want)
		}
	}
	if _, err := f.Int("absent.key"); !errors.Is(err, ErrMissingKey) {
		t.Errorf("missing key: %v does not wrap ErrMissingKey", err)
	}

	ref, err := safetensors.Open("../../testdata/gguf/types.values.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	var names []string
	for _, ti := range ref.Header().Tensors {
		names = append(names, ti.Name)
	}
	for _, name := range names {
		info, ok := f.Tensor(name)
		if !ok {
			t.Errorf("tensor %s missing", name)
			continue
		}
		want, err := ref.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		refInfo, _ := ref.Info(name)
		if !slices.Equal(info.Shape(), refInfo.Shape) {
			t.Errorf("%s: shape %v, want %v", name, info.Shape(), refInfo.Shape)
		}
		got, err := f.Float32s(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d values, want %d", name, len(got), len(want))
			continue
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Errorf("%s (%s) [%d] = %v, want %v (gguf-py's dequantize)", name, info.Type, i, got[i], want[i])
				break
			}
		}
	}
	if len(names) != 9 {
		t.Errorf("%d reference tensors, want 9", len(names))
	}
	if _, err := f.Float32s("q4_0.2d"); err == nil || !strings.Contains(err.Error(), "Q4_0") {
		t.Errorf("Float32s(q4_0.2d): %v, want a refusal naming Q4_0", err)
	}
	if err := f.Close(); err != nil || f.Close() != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := f.Float32s("f32.2d"); err == nil {
		t.Error("Float32s after Close: no error")
	}
}

func must[T any](v T, _ bool) T { return v }

func TestSmall(t *testing.T) {
	f, err := Parse(small())
	if err != nil {
		t.Fatal(err)
	}
	info, _ := f.Tensor("v.patch_embd.weight")
	if !slices.Equal(info.Shape(), []int{2, 3}) || info.Elements() != 6 || info.Bytes != 24 {
		t.Errorf("info %+v, shape %v", info, info.Shape())
	}
	got, err := f.Float32s("v.patch_embd.weight")
	if err != nil || !slices.Equal(got, []float32{0, 1, 2, 3, 4, 5}) {
		t.Errorf("Float32s = %v, %v", got, err)
	}
}

// Every malformed file is refused with ErrInvalid and a message saying what is wrong.
func TestMalformed(t *testing.T) {
	kv := func(key string, ty ValueType, payload ...byte) []byte {
		w := (&builder{}).header(0, 1).str(key).u32(uint32(ty))
		return w.raw(payload...).b
	}
	oneTensor := func(dims []uint64, dtype uint32, offset uint64, data int) []byte {
		w := (&builder{}).header(1, 0).tensor("t", dims, dtype, offset).padTo(DefaultAlignment)
		return w.raw(make([]byte, data)...).b
	}
	u32 := func(v uint32) []byte { return (&builder{}).u32(v).b }
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"magic", append([]byte("GGUG"), small()[4:]...), "not a GGUF file"},
		{"version 1", (&builder{}).raw('G', 'G', 'U', 'F').u32(1).u64(0).u64(0).b, "version 1"},
		{"big-endian", (&builder{}).raw('G', 'G', 'U', 'F').u32(3 << 24).u64(0).u64(0).b, "big-endian"},
		{"version 4", (&builder{}).raw('G', 'G', 'U', 'F').u32(4).u64(0).u64(0).b, "want 2 or 3"},
		{"lying tensor count", (&builder{}).header(1<<40, 0).b, "tensor count"},
		{"lying kv count", (&builder{}).header(0, 1000).b, "key/value count"},
		{"lying string length", (&builder{}).header(0, 1).u64(1 << 50).u64(0).b, "over the limit"},
		{"string past the end", (&builder{}).header(0, 1).u64(100).raw('a').b, "hold at most"},
		{"empty key", kv("", TypeUint8, 1, 0), "empty"},
		{"unknown value type", kv("k", 13, 0, 0, 0, 0), "unknown type 13"},
		{"array of arrays", kv("k", TypeArray, append(u32(uint32(TypeArray)), 0, 0, 0, 0, 0, 0, 0, 0)...), "array of arrays"},
		{"array of unknown", kv("k", TypeArray, append(u32(99), 0, 0, 0, 0, 0, 0, 0, 0)...), "unknown type 99"},
		{"lying array length", kv("k", TypeArray, append(u32(uint32(TypeUint32)), 0xff, 0xff, 0xff, 0x3f, 0, 0, 0, 0)...), "length of"},
		{"truncated scalar", kv("k", TypeUint64, 1, 2), "truncated"},
		{"duplicate key", (&builder{}).header(0, 2).str("k").u32(uint32(TypeUint8)).raw(1).str("k").u32(uint32(TypeUint8)).raw(2).b, "twice"},
		{"alignment not u32", kv(KeyAlignment, TypeUint64, 64, 0, 0, 0, 0, 0, 0, 0), "want a u32"},
		{"alignment 48", kv(KeyAlignment, TypeUint32, 48, 0, 0, 0), "not a power of two"},
		{"alignment 0", kv(KeyAlignment, TypeUint32, 0, 0, 0, 0), "not a power of two"},
		{"long name", (&builder{}).header(1, 0).tensor(strings.Repeat("n", 64), []uint64{1}, 0, 0).b, "over the limit of 63"},
		{"five dims", (&builder{}).header(1, 0).tensor("t", []uint64{1, 1, 1, 1, 1}, 0, 0).b, "5 dimensions"},
		{"negative dim", (&builder{}).header(1, 0).tensor("t", []uint64{1 << 63}, 0, 0).b, "negative"},
		{"overflowing shape", (&builder{}).header(1, 0).tensor("t", []uint64{1 << 32, 1 << 32}, 0, 0).b, "2⁶³ elements"},
		{"too many bytes", (&builder{}).header(1, 0).tensor("t", []uint64{1 << 31, 1 << 31}, 0, 0).b, "too large in bytes"},
		{"unknown dtype", (&builder{}).header(1, 0).tensor("t", []uint64{4}, 31, 0).b, "does not define"},
		{"row not whole blocks", (&builder{}).header(1, 0).tensor("t", []uint64{33, 2}, uint32(Q8_0), 0).b, "not a multiple of its block of 32"},
		{"duplicate tensor", (&builder{}).header(2, 0).tensor("t", []uint64{1}, 0, 0).tensor("t", []uint64{1}, 0, 32).b, "twice"},
		{"offset not where the last ended", oneTensor([]uint64{4}, uint32(F32), 32, 64), "want 0"},
		{"data past the end", oneTensor([]uint64{16}, uint32(F32), 0, 60), "past the end of the file"},
		{"huge offset", (&builder{}).header(1, 0).tensor("t", []uint64{1}, 0, 1<<62).b, "past any file"},
	} {
		_, err := Parse(c.data)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrInvalid saying %q", c.name, err, c.want)
		}
	}
}

// Every proper prefix of a valid file is refused, never read past its end.
func TestTruncated(t *testing.T) {
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(data) - 1 {
		f, err := Parse(data[:n:n])
		if err == nil {
			// A prefix that ends in the last tensor's padding is a whole file.
			last := f.Tensors[len(f.Tensors)-1]
			if int64(n) < f.DataOffset+last.Offset+last.Bytes {
				t.Fatalf("prefix of %d bytes accepted", n)
			}
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("prefix of %d bytes: %v", n, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.gguf")
	if err := os.WriteFile(short, []byte("GGUF"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{short, "too short"},
		{dir, "not a regular file"},
		{filepath.Join(dir, "none.gguf"), "no such file"},
	} {
		if _, err := Open(c.path); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("Open(%s): %v, want %q and the path", c.path, err, c.want)
		}
	}
}
