package npy

import (
	"bytes"
	"strings"
	"testing"
)

func TestAppend(t *testing.T) {
	tests := []struct {
		name   string
		d      Descr
		shape  []int
		data   []byte
		header string // the header dict, without its padding
	}{
		{"matrix", F32, []int{2, 1}, make([]byte, 8), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }"},
		{"vector", I64, []int{3}, make([]byte, 24), "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"},
		{"scalar", F64, nil, make([]byte, 8), "{'descr': '<f8', 'fortran_order': False, 'shape': (), }"},
		{"empty", F32, []int{0, 4}, nil, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Append([]byte("x"), tt.d, tt.shape, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			b = b[1:]
			if !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) {
				t.Fatalf("magic: % x", b[:8])
			}
			hlen := int(b[8]) | int(b[9])<<8
			if (10+hlen)%64 != 0 {
				t.Errorf("data starts at %d, not a multiple of 64", 10+hlen)
			}
			h := string(b[10 : 10+hlen])
			if !strings.HasSuffix(h, "\n") || strings.TrimRight(h, " \n") != tt.header {
				t.Errorf("header %q, want %q padded", h, tt.header)
			}
			if !bytes.Equal(b[10+hlen:], tt.data) {
				t.Errorf("data differs")
			}
		})
	}
}

func TestAppendErrors(t *testing.T) {
	tests := []struct {
		name  string
		d     Descr
		shape []int
		data  []byte
		want  string
	}{
		{"dtype", "<f2", []int{1}, make([]byte, 2), "not supported"},
		{"short", F32, []int{2, 2}, make([]byte, 12), "needs 16 bytes, have 12"},
		{"negative", F32, []int{-1}, nil, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Append(nil, tt.d, tt.shape, tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}
