package gguf

import "fmt"

// ValueType is the type of a metadata value (gguf_type).
type ValueType uint32

// The metadata value types.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"}

// String returns the type's short name ("u32", "string", …).
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("type %d", uint32(t))
}

// size is the encoded size of a scalar of type t, 0 for strings and arrays and unknown types.
func (t ValueType) size() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// DType is a tensor's ggml type (ggml_type).
type DType uint32

// The ggml types this package reads values of; the others are known by name and size only.
const (
	F32  DType = 0
	F16  DType = 1
	Q8_0 DType = 8
	BF16 DType = 30
)

// dtypeInfo is a ggml type's name, block size (elements) and block bytes, as ggml's type
// traits (and gguf-py's GGML_QUANT_SIZES) give them.
type dtypeInfo struct {
	name       string
	block      int64
	blockBytes int64
}

const qkK = 256 // QK_K, the super-block of the k-quants

var dtypes = map[DType]dtypeInfo{
	0:  {"F32", 1, 4},
	1:  {"F16", 1, 2},
	2:  {"Q4_0", 32, 2 + 16},
	3:  {"Q4_1", 32, 2 + 2 + 16},
	6:  {"Q5_0", 32, 2 + 4 + 16},
	7:  {"Q5_1", 32, 2 + 2 + 4 + 16},
	8:  {"Q8_0", 32, 2 + 32},
	9:  {"Q8_1", 32, 2 + 2 + 32},
	10: {"Q2_K", qkK, 2 + 2 + qkK/16 + qkK/4},
	11: {"Q3_K", qkK, 2 + qkK/4 + qkK/8 + 12},
	12: {"Q4_K", qkK, 2 + 2 + qkK/2 + 12},
	13: {"Q5_K", qkK, 2 + 2 + qkK/2 + qkK/8 + 12},
	14: {"Q6_K", qkK, 2 + qkK/2 + qkK/4 + qkK/16},
	15: {"Q8_K", qkK, 4 + qkK + qkK/8},
	16: {"IQ2_XXS", qkK, 2 + qkK/4},
	17: {"IQ2_XS", qkK, 2 + qkK/4 + qkK/32},
	18: {"IQ3_XXS", qkK, 2 + qkK/4 + qkK/8},
	19: {"IQ1_S", qkK, 2 + qkK/8 + qkK/16},
	20: {"IQ4_NL", 32, 2 + 16},
	21: {"IQ3_S", qkK, 2 + qkK/4 + qkK/8 + qkK/32 + 4},
	22: {"IQ2_S", qkK, 2 + qkK/4 + qkK/16},
	23: {"IQ4_XS", qkK, 2 + 2 + qkK/2 + qkK/64},
	24: {"I8", 1, 1},
	25: {"I16", 1, 2},
	26: {"I32", 1, 4},
	27: {"I64", 1, 8},
	28: {"F64", 1, 8},
	29: {"IQ1_M", qkK, qkK/8 + qkK/16 + qkK/32},
	30: {"BF16", 1, 2},
	34: {"TQ1_0", qkK, 2 + 4*13},
	35: {"TQ2_0", qkK, 2 + 64},
	39: {"MXFP4", 32, 1 + 16},
	40: {"NVFP4", 64, 4 + 32},
	41: {"Q1_0", 128, 2 + 16},
	42: {"Q2_0", 64, 2 + 16},
}

// String returns the ggml name of the type ("Q8_0"), or "type N" for one ggml does not define.
func (d DType) String() string {
	if info, ok := dtypes[d]; ok {
		return info.name
	}
	return fmt.Sprintf("type %d", uint32(d))
}
