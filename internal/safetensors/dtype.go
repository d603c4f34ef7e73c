package safetensors

// DType is an element type as spelled in the "dtype" field of a
// safetensors header.
type DType string

// The element types defined by the safetensors format. All multi-byte types
// are stored little-endian.
const (
	BOOL        DType = "BOOL"        // 1 byte, 0 or 1
	U8          DType = "U8"          // unsigned 8-bit integer
	I8          DType = "I8"          // signed 8-bit integer
	U16         DType = "U16"         // unsigned 16-bit integer
	I16         DType = "I16"         // signed 16-bit integer
	U32         DType = "U32"         // unsigned 32-bit integer
	I32         DType = "I32"         // signed 32-bit integer
	U64         DType = "U64"         // unsigned 64-bit integer
	I64         DType = "I64"         // signed 64-bit integer
	F16         DType = "F16"         // IEEE 754 binary16
	BF16        DType = "BF16"        // bfloat16: the top 16 bits of a binary32
	F32         DType = "F32"         // IEEE 754 binary32
	F64         DType = "F64"         // IEEE 754 binary64
	C64         DType = "C64"         // complex64: two F32 (real, imaginary)
	F8_E4M3     DType = "F8_E4M3"     // 8-bit float, 4 exponent / 3 mantissa bits
	F8_E5M2     DType = "F8_E5M2"     // 8-bit float, 5 exponent / 2 mantissa bits
	F8_E8M0     DType = "F8_E8M0"     // 8-bit exponent-only scale (OCP MX)
	F8_E4M3FNUZ DType = "F8_E4M3FNUZ" // 8-bit float, E4M3 finite, unsigned zero
	F8_E5M2FNUZ DType = "F8_E5M2FNUZ" // 8-bit float, E5M2 finite, unsigned zero
	F6_E2M3     DType = "F6_E2M3"     // 6-bit float (OCP MX), packed
	F6_E3M2     DType = "F6_E3M2"     // 6-bit float (OCP MX), packed
	F4          DType = "F4"          // 4-bit float E2M1 (OCP MX), packed
)

// bitSizes maps every known dtype to its element size in bits.
var bitSizes = map[DType]int{
	BOOL: 8, U8: 8, I8: 8,
	U16: 16, I16: 16,
	U32: 32, I32: 32,
	U64: 64, I64: 64,
	F16: 16, BF16: 16, F32: 32, F64: 64, C64: 64,
	F8_E4M3: 8, F8_E5M2: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8,
	F6_E2M3: 6, F6_E3M2: 6, F4: 4,
}

// allDTypes lists the known dtypes in the order of the reference
// implementation's enum (increasing alignment).
var allDTypes = []DType{
	BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0,
	F8_E4M3FNUZ, F8_E5M2FNUZ, I16, U16, F16, BF16, I32, U32, F32, C64, F64,
	I64, U64,
}

// DTypes returns every dtype the format defines.
func DTypes() []DType { return append([]DType(nil), allDTypes...) }

// Size returns the number of bytes per element, or 0 if d is unknown or its
// elements are smaller than a byte (F4, F6_E2M3, F6_E3M2; see BitSize).
func (d DType) Size() int {
	b := bitSizes[d]
	if b%8 != 0 {
		return 0
	}
	return b / 8
}

// BitSize returns the number of bits per element, or 0 if d is unknown.
// Sub-byte types are packed: a tensor of n elements occupies n*BitSize/8
// bytes, and n*BitSize must be a multiple of 8.
func (d DType) BitSize() int { return bitSizes[d] }

// Known reports whether d is a dtype defined by the format.
func (d DType) Known() bool { return bitSizes[d] != 0 }
