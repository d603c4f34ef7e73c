package gguf

import (
	"os"
	"testing"
)

// FuzzParse: no input panics, hangs or allocates beyond its size; an accepted file's tensors
// lie inside it, and reading any of them does not panic.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(fixture); err == nil {
		f.Add(data)
	}
	f.Add(small())
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err != nil {
			return
		}
		for _, ti := range g.Tensors {
			if ti.Offset < 0 || ti.Bytes < 0 || g.DataOffset+ti.Offset+ti.Bytes > int64(len(data)) {
				t.Fatalf("tensor %q at %d+%d (%d bytes) outside a %d-byte file", ti.Name, g.DataOffset, ti.Offset, ti.Bytes, len(data))
			}
			if Readable(ti.Type) && ti.Elements() <= 1<<20 {
				if _, err := g.Float32s(ti.Name); err != nil {
					t.Fatalf("Float32s(%q): %v", ti.Name, err)
				}
			}
		}
		for _, kv := range g.KV {
			_ = kv.Value.String()
			kv.Value.Ints()
			kv.Value.Floats()
			kv.Value.Bools()
		}
	})
}
