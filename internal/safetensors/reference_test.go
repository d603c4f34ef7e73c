package safetensors

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/half"
)

// torchFile is the file written by safetensors 0.8.0 for
//
//	save_file({"a": torch.tensor([1.5, -2, 3e-8], dtype=torch.bfloat16),
//	           "b": torch.tensor([[0.1, 65504]], dtype=torch.float16),
//	           "i": torch.tensor([-3, 7]),
//	           "s": torch.tensor(3.0)}, path, metadata={"format": "pt"})
func torchFile(t *testing.T) []byte {
	header := `{"__metadata__":{"format":"pt"},` +
		`"i":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},` +
		`"s":{"dtype":"F32","shape":[],"data_offsets":[16,20]},` +
		`"a":{"dtype":"BF16","shape":[3],"data_offsets":[20,26]},` +
		`"b":{"dtype":"F16","shape":[1,2],"data_offsets":[26,30]}}   `
	data, err := hex.DecodeString("fdffffffffffffff070000000000000000004040c03f00c00133662eff7b")
	if err != nil {
		t.Fatal(err)
	}
	return rawFile(header, data)
}

func TestReadReferenceFile(t *testing.T) {
	path := writeBytes(t, t.TempDir(), "torch.safetensors", torchFile(t))
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !reflect.DeepEqual(f.Header().Metadata, map[string]string{"format": "pt"}) {
		t.Errorf("metadata = %v", f.Header().Metadata)
	}
	// Values as torch converts them: tensor.float().tolist().
	want := map[string][]float32{
		"a": {1.5, -2, float32(3.003515303134918e-08)},
		"b": {0.0999755859375, 65504},
		"s": {3},
	}
	for name, w := range want {
		got, err := f.Float32(name)
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("Float32(%q) = %v, %v; want %v", name, got, err, w)
		}
	}
	if got, err := f.Int64("i"); err != nil || !reflect.DeepEqual(got, []int64{-3, 7}) {
		t.Errorf("Int64(i) = %v, %v", got, err)
	}
	if info, _ := f.Info("b"); !reflect.DeepEqual(info.Shape, []int{1, 2}) {
		t.Errorf("shape of b = %v", info.Shape)
	}
	// torch rounds to bfloat16 the way half.F32ToBF16 does.
	for i, v := range []float32{1.5, -2, 3e-8} {
		raw, _ := f.Bytes("a")
		if got, want := half.F32ToBF16(v), uint16(raw[2*i])|uint16(raw[2*i+1])<<8; got != want {
			t.Errorf("half.F32ToBF16(%v) = %#04x, torch wrote %#04x", v, got, want)
		}
	}
}

// TestWriteMatchesReference compares Write's output byte for byte with
// what safetensors 0.8.0 writes for the same tensor, including the JSON
// string escapes of serde_json.
func TestWriteMatchesReference(t *testing.T) {
	weird := ""
	for c := 0; c < 0x20; c++ {
		weird += string(rune(c))
	}
	weird += "\"\\/\x7f\u2028\u2029é😀<&>"
	// The escaped form serde_json produces for weird.
	escaped := `\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f` +
		`\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f` +
		`\"\\/` + "\x7f\u2028\u2029é😀<&>"
	header := `{"__metadata__":{"` + escaped + `":"` + escaped + `"},"a` + escaped +
		`":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
	for len(header)%8 != 0 {
		header += " "
	}
	want := rawFile(header, []byte{0, 0, 0x80, 0x3f})
	got := encode(t, []Tensor{F32Tensor("a"+weird, []int{1}, []float32{1})}, map[string]string{weird: weird})
	if !bytes.Equal(got, want) {
		t.Errorf("Write output differs from the reference:\n got %q\nwant %q", got, want)
	}
	// And it reads back.
	n := len(header)
	h, err := ParseHeader(got[8:8+n], 4)
	if err != nil {
		t.Fatal(err)
	}
	if h.Tensors[0].Name != "a"+weird || h.Metadata[weird] != weird {
		t.Errorf("read back %q, %q", h.Tensors[0].Name, h.Metadata)
	}
}
