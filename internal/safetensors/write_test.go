package safetensors

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestTensorConstructors(t *testing.T) {
	shape := []int{2}
	tests := []struct {
		name string
		got  Tensor
		want Tensor
	}{
		{"F32Tensor", F32Tensor("x", shape, []float32{1, -2}),
			Tensor{"x", F32, []int{2}, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}}},
		{"BF16Tensor", BF16Tensor("x", shape, []float32{1, -2}),
			Tensor{"x", BF16, []int{2}, []byte{0x80, 0x3f, 0, 0xc0}}},
		{"I64Tensor", I64Tensor("x", shape, []int64{1, -2}),
			Tensor{"x", I64, []int{2}, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %+v, want %+v", tt.name, tt.got, tt.want)
		}
	}
	shape[0] = 5
	if tests[0].got.Shape[0] != 2 {
		t.Error("F32Tensor keeps the caller's shape slice")
	}
}

func TestWriteValidation(t *testing.T) {
	ok := F32Tensor("ok", []int{1}, []float32{1})
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    []string
	}{
		{"size mismatch", []Tensor{{Name: "a", DType: F32, Shape: []int{2}, Data: make([]byte, 4)}}, nil,
			[]string{`tensor "a"`, "data is 4 bytes", "needs 8"}},
		{"scalar size mismatch", []Tensor{{Name: "a", DType: I64, Shape: nil, Data: make([]byte, 4)}}, nil,
			[]string{`tensor "a"`, "needs 8"}},
		{"unknown dtype", []Tensor{{Name: "a", DType: "F7", Shape: []int{1}, Data: make([]byte, 1)}}, nil,
			[]string{`tensor "a"`, `unknown dtype "F7"`}},
		{"negative shape", []Tensor{{Name: "a", DType: U8, Shape: []int{-1}}}, nil,
			[]string{`tensor "a"`, "negative"}},
		{"overflowing shape", []Tensor{{Name: "a", DType: F32, Shape: []int{math.MaxInt, math.MaxInt, math.MaxInt, 4}}}, nil,
			[]string{`tensor "a"`, "overflow"}},
		{"duplicate name", []Tensor{ok, ok}, nil, []string{`tensor "ok"`, "duplicate"}},
		{"empty name", []Tensor{{DType: U8, Shape: []int{0}}}, nil, []string{"empty name"}},
		{"reserved name", []Tensor{{Name: "__metadata__", DType: U8, Shape: []int{0}}}, nil, []string{"reserved"}},
		{"invalid UTF-8 name", []Tensor{{Name: "a\xff", DType: U8, Shape: []int{0}}}, nil, []string{"UTF-8"}},
		{"invalid UTF-8 metadata", []Tensor{ok}, map[string]string{"k": "\xff"}, []string{`metadata entry "k"`, "UTF-8"}},
		{"sub-byte odd count", []Tensor{{Name: "q", DType: F4, Shape: []int{3}, Data: make([]byte, 2)}}, nil,
			[]string{`tensor "q"`, "whole bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tt.tensors, tt.meta)
			checkErr(t, err, ErrInvalid, append([]string{"safetensors: "}, tt.want...)...)
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

// failWriter accepts n bytes, then fails.
type failWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteWriterError(t *testing.T) {
	tensors := []Tensor{F32Tensor("a", []int{4}, []float32{1, 2, 3, 4})}
	total := len(encode(t, tensors, nil))
	for _, n := range []int{0, 4, 8, 20, total - 1} {
		err := Write(&failWriter{n: n}, tensors, nil)
		checkErr(t, err, errDiskFull, "safetensors: write: disk full")
	}
	if err := Write(&failWriter{n: total}, tensors, nil); err != nil {
		t.Errorf("exact-size writer: %v", err)
	}
}

func TestWriteNoTensors(t *testing.T) {
	b := encode(t, nil, nil)
	if want := rawFile("{}      ", nil); !bytes.Equal(b, want) {
		t.Errorf("empty file = %q, want %q", b, want)
	}
	path := writeBytes(t, t.TempDir(), "e.safetensors", b)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n := len(f.Header().Tensors); n != 0 {
		t.Errorf("%d tensors", n)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.safetensors")
	tensors := []Tensor{F32Tensor("a", []int{1}, []float32{1})}
	if err := WriteFile(path, tensors, nil); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); !reflect.DeepEqual(got, []string{"out.safetensors"}) {
		t.Errorf("directory holds %q", got)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	// Overwriting replaces the contents.
	tensors2 := []Tensor{F32Tensor("b", []int{2}, []float32{1, 2})}
	if err := WriteFile(path, tensors2, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, encode(t, tensors2, nil)) {
		t.Error("overwritten file has the wrong contents")
	}
}

// TestWriteFileLeavesNothingBehind checks that failed writes leave neither a
// temporary file nor a partial or modified target.
func TestWriteFileLeavesNothingBehind(t *testing.T) {
	bad := []Tensor{{Name: "a", DType: F32, Shape: []int{2}, Data: make([]byte, 3)}}
	good := []Tensor{F32Tensor("a", []int{1}, []float32{1})}
	old := []byte("previous contents")

	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) string // returns the target path
		write   func(path string) error
		target  error
		want    []string
		entries []string // expected directory listing afterwards
		keep    []byte   // expected contents of the target, if any
	}{
		{
			name:    "invalid tensors, no previous file",
			setup:   func(t *testing.T, dir string) string { return filepath.Join(dir, "out.safetensors") },
			write:   func(p string) error { return WriteFile(p, bad, nil) },
			target:  ErrInvalid,
			want:    []string{"out.safetensors", `tensor "a"`},
			entries: nil,
		},
		{
			name: "invalid tensors, previous file kept",
			setup: func(t *testing.T, dir string) string {
				return writeBytes(t, dir, "out.safetensors", old)
			},
			write:   func(p string) error { return WriteFile(p, bad, nil) },
			target:  ErrInvalid,
			entries: []string{"out.safetensors"},
			keep:    old,
		},
		{
			name: "write fails midway",
			setup: func(t *testing.T, dir string) string {
				return writeBytes(t, dir, "out.safetensors", old)
			},
			write: func(p string) error {
				return writeFileAtomic(p, func(w io.Writer) error {
					w.Write([]byte("partial data"))
					return errDiskFull
				})
			},
			target:  errDiskFull,
			want:    []string{"out.safetensors", "disk full"},
			entries: []string{"out.safetensors"},
			keep:    old,
		},
		{
			name: "target is a directory",
			setup: func(t *testing.T, dir string) string {
				writeBytes(t, dir, "out.safetensors/inside", nil)
				return filepath.Join(dir, "out.safetensors")
			},
			write:   func(p string) error { return WriteFile(p, good, nil) },
			want:    []string{"out.safetensors", "is a folder"},
			entries: []string{"out.safetensors"},
		},
		{
			name:   "directory does not exist",
			setup:  func(t *testing.T, dir string) string { return filepath.Join(dir, "nope", "out.safetensors") },
			write:  func(p string) error { return WriteFile(p, good, nil) },
			target: fs.ErrNotExist,
			want:   []string{"out.safetensors", "temporary file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(t, dir)
			err := tt.write(path)
			checkErr(t, err, tt.target, append([]string{"safetensors: " + path + ": "}, tt.want...)...)
			if got := listDir(t, dir); !reflect.DeepEqual(got, tt.entries) {
				t.Errorf("directory holds %q, want %q", got, tt.entries)
			}
			if tt.keep != nil {
				if got, _ := os.ReadFile(path); !bytes.Equal(got, tt.keep) {
					t.Errorf("target now holds %q, want %q", got, tt.keep)
				}
			}
			if strings.Count(err.Error(), path) != 1 {
				t.Errorf("error %q does not name the path exactly once", err)
			}
		})
	}
}

// TestEncodeHeaderMatchesWrite: EncodeHeader, given the tensors without their data, returns
// exactly the bytes Write writes before the data (names needing escapes, metadata, a scalar).
func TestEncodeHeaderMatchesWrite(t *testing.T) {
	ts := []Tensor{
		F32Tensor("a<b>&c\"\n", []int{2, 3}, make([]float32, 6)),
		BF16Tensor("model.visual.x", []int{5}, make([]float32, 5)),
		F32Tensor("scalar", nil, []float32{1}),
	}
	for _, meta := range []map[string]string{nil, {"format": "pt", "z": "ü\t"}} {
		var buf bytes.Buffer
		if err := Write(&buf, ts, meta); err != nil {
			t.Fatal(err)
		}
		bare := make([]Tensor, len(ts))
		for i, x := range ts {
			bare[i] = Tensor{Name: x.Name, DType: x.DType, Shape: x.Shape}
		}
		got, err := EncodeHeader(bare, meta)
		if err != nil {
			t.Fatal(err)
		}
		if want := buf.Bytes()[:buf.Len()-6*4-5*2-4]; !bytes.Equal(got, want) {
			t.Errorf("meta %v: header\n%q\nwant\n%q", meta, got, want)
		}
	}
	if _, err := EncodeHeader([]Tensor{{Name: "x", DType: "F33", Shape: []int{1}}}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown dtype: %v, want ErrInvalid", err)
	}
}
