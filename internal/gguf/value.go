package gguf

import (
	"errors"
	"fmt"
	"math"
)

// Value is a metadata value: a scalar of Type, or (Type TypeArray) an array of Elem.
type Value struct {
	Type ValueType
	Elem ValueType // the element type of an array
	// v is the Go value: uint8 … float64, bool or string for a scalar; []string for an array
	// of strings; the encoded little-endian bytes for an array of scalars.
	v any
}

func (v Value) typeName() string {
	if v.Type == TypeArray {
		return "array of " + v.Elem.String()
	}
	return v.Type.String()
}

// String describes the value briefly (for messages and listings).
func (v Value) String() string {
	switch x := v.v.(type) {
	case string:
		if len(x) > 60 {
			return fmt.Sprintf("%q… (%d bytes)", x[:60], len(x))
		}
		return fmt.Sprintf("%q", x)
	case []string:
		return fmt.Sprintf("[%d strings]", len(x))
	case []byte:
		return fmt.Sprintf("[%d × %s]", v.Len(), v.Elem)
	}
	return fmt.Sprint(v.v)
}

// Len is an array's length (0 for a scalar).
func (v Value) Len() int {
	switch x := v.v.(type) {
	case []string:
		return len(x)
	case []byte:
		return len(x) / v.Elem.size()
	}
	return 0
}

// toInt converts an integer scalar to int64; ok is false for other types and for a u64 over
// the int64 range.
func toInt(x any) (int64, bool) {
	switch n := x.(type) {
	case uint8:
		return int64(n), true
	case int8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case int16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		if n > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}

// Int returns an integer scalar of any width.
func (v Value) Int() (int64, bool) { return toInt(v.v) }

// Float returns a float32 or float64 scalar.
func (v Value) Float() (float64, bool) {
	switch x := v.v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// Bool returns a bool scalar.
func (v Value) Bool() (bool, bool) { b, ok := v.v.(bool); return b, ok }

// Str returns a string scalar.
func (v Value) Str() (string, bool) { s, ok := v.v.(string); return s, ok }

// Strings returns an array of strings.
func (v Value) Strings() ([]string, bool) { s, ok := v.v.([]string); return s, ok }

// elems decodes an array of scalars.
func (v Value) elems() ([]any, bool) {
	b, ok := v.v.([]byte)
	if !ok {
		return nil, false
	}
	size := v.Elem.size()
	out := make([]any, len(b)/size)
	for i := range out {
		out[i] = scalarAt(v.Elem, b[i*size:])
	}
	return out, true
}

// Ints returns an array of integers of any width.
func (v Value) Ints() ([]int64, bool) {
	xs, ok := v.elems()
	if !ok {
		return nil, false
	}
	out := make([]int64, len(xs))
	for i, x := range xs {
		if out[i], ok = toInt(x); !ok {
			return nil, false
		}
	}
	return out, true
}

// Floats returns an array of float32 or float64.
func (v Value) Floats() ([]float64, bool) {
	xs, ok := v.elems()
	if !ok {
		return nil, false
	}
	out := make([]float64, len(xs))
	for i, x := range xs {
		if out[i], ok = (Value{v: x}).Float(); !ok {
			return nil, false
		}
	}
	return out, true
}

// Bools returns an array of bools.
func (v Value) Bools() ([]bool, bool) {
	if v.Elem != TypeBool {
		return nil, false
	}
	xs, ok := v.elems()
	if !ok {
		return nil, false
	}
	out := make([]bool, len(xs))
	for i, x := range xs {
		out[i] = x.(bool)
	}
	return out, true
}

// ErrMissingKey is wrapped by the File accessors for a key the file does not have.
var ErrMissingKey = errors.New("no such key")

// Get returns the value of key.
func (f *File) Get(key string) (Value, bool) {
	i, ok := f.keys[key]
	if !ok {
		return Value{}, false
	}
	return f.KV[i].Value, true
}

// lookup returns key's value converted by conv, or an error naming the file, the key and what
// was wanted.
func lookup[T any](f *File, key, want string, conv func(Value) (T, bool)) (T, error) {
	var zero T
	v, ok := f.Get(key)
	if !ok {
		return zero, fmt.Errorf("gguf: %s%w %q", f.where(), ErrMissingKey, key)
	}
	x, ok := conv(v)
	if !ok {
		return zero, fmt.Errorf("gguf: %skey %q is a %s, want %s", f.where(), key, v.typeName(), want)
	}
	return x, nil
}

func (f *File) where() string {
	if f.Path == "" {
		return ""
	}
	return f.Path + ": "
}

// Int returns key's integer value.
func (f *File) Int(key string) (int64, error) { return lookup(f, key, "an integer", Value.Int) }

// Float returns key's floating-point value.
func (f *File) Float(key string) (float64, error) { return lookup(f, key, "a float", Value.Float) }

// Bool returns key's bool value.
func (f *File) Bool(key string) (bool, error) { return lookup(f, key, "a bool", Value.Bool) }

// String returns key's string value.
func (f *File) String(key string) (string, error) { return lookup(f, key, "a string", Value.Str) }

// Ints returns key's array of integers.
func (f *File) Ints(key string) ([]int64, error) {
	return lookup(f, key, "an array of integers", Value.Ints)
}

// Floats returns key's array of floats.
func (f *File) Floats(key string) ([]float64, error) {
	return lookup(f, key, "an array of floats", Value.Floats)
}

// Bools returns key's array of bools.
func (f *File) Bools(key string) ([]bool, error) {
	return lookup(f, key, "an array of bools", Value.Bools)
}
