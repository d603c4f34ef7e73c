package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.json")
	if err := os.WriteFile(small, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(small, 10); err != nil || string(b) != "0123456789" {
		t.Fatalf("at the limit: %q, %v", b, err)
	}
	for _, tc := range []struct {
		name, path string
		limit      int64
		check      func(error) bool
	}{
		{"over the limit", small, 9, func(err error) bool {
			return errors.Is(err, ErrTooLarge) && strings.Contains(err.Error(), "small.json")
		}},
		{"a folder", dir, 1 << 20, func(err error) bool { return strings.Contains(err.Error(), "not a regular file") }},
		{"missing", filepath.Join(dir, "none"), 1 << 20, func(err error) bool { return errors.Is(err, fs.ErrNotExist) }},
	} {
		if _, err := ReadFile(tc.path, tc.limit); err == nil || !tc.check(err) {
			t.Errorf("%s: got %v", tc.name, err)
		}
	}
}
