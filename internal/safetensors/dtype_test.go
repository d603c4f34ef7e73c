package safetensors

import "testing"

func TestDTypeSizes(t *testing.T) {
	tests := []struct {
		d          DType
		size, bits int
	}{
		{BOOL, 1, 8}, {U8, 1, 8}, {I8, 1, 8},
		{U16, 2, 16}, {I16, 2, 16}, {F16, 2, 16}, {BF16, 2, 16},
		{U32, 4, 32}, {I32, 4, 32}, {F32, 4, 32},
		{U64, 8, 64}, {I64, 8, 64}, {F64, 8, 64}, {C64, 8, 64},
		{F8_E4M3, 1, 8}, {F8_E5M2, 1, 8}, {F8_E8M0, 1, 8},
		{F8_E4M3FNUZ, 1, 8}, {F8_E5M2FNUZ, 1, 8},
		{F6_E2M3, 0, 6}, {F6_E3M2, 0, 6}, {F4, 0, 4},
		{"", 0, 0}, {"F7", 0, 0}, {"f32", 0, 0}, {"float32", 0, 0},
	}
	for _, tt := range tests {
		if got := tt.d.Size(); got != tt.size {
			t.Errorf("%q.Size() = %d, want %d", tt.d, got, tt.size)
		}
		if got := tt.d.BitSize(); got != tt.bits {
			t.Errorf("%q.BitSize() = %d, want %d", tt.d, got, tt.bits)
		}
		if got := tt.d.Known(); got != (tt.bits != 0) {
			t.Errorf("%q.Known() = %v", tt.d, got)
		}
	}
}

func TestDTypesComplete(t *testing.T) {
	all := DTypes()
	if len(all) != len(bitSizes) {
		t.Fatalf("DTypes() has %d entries, bitSizes %d", len(all), len(bitSizes))
	}
	seen := map[DType]bool{}
	for _, d := range all {
		if !d.Known() || seen[d] {
			t.Errorf("DTypes(): %q unknown or repeated", d)
		}
		seen[d] = true
	}
	all[0] = "changed"
	if DTypes()[0] == "changed" {
		t.Error("DTypes() returns shared storage")
	}
}
