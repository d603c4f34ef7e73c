package checkpoint

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestWeightsRoundTrip(t *testing.T) {
	for _, w := range []Weights{WeightsAuto, WeightsF32, WeightsBF16} {
		got, err := ParseWeights(w.String())
		if err != nil || got != w {
			t.Errorf("ParseWeights(%q) = %v, %v; want %v", w.String(), got, err, w)
		}
	}
	if _, err := ParseWeights("fp16"); err == nil || !strings.Contains(err.Error(), "want auto, f32 or bf16") {
		t.Errorf("ParseWeights(fp16): %v", err)
	}
	if s := Weights(7).String(); s != "Weights(7)" {
		t.Errorf("Weights(7).String() = %q", s)
	}
}

func TestDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.json")
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Dir(dir); err != nil {
		t.Errorf("Dir(folder): %v", err)
	}
	if err := Dir(file); err == nil || !strings.Contains(err.Error(), "is not a folder") {
		t.Errorf("Dir(file): %v", err)
	}
	if err := Dir(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dir(absent): %v", err)
	}
}

func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(`{"depth": "two"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	type cfg struct {
		Depth int `json:"depth"`
	}
	parse := func(b []byte) (cfg, error) {
		var c cfg
		if err := json.Unmarshal(b, &c); err != nil {
			return cfg{}, DescribeJSONError(err)
		}
		return c, nil
	}
	_, err := ReadConfig(path, parse)
	if err == nil || !strings.Contains(err.Error(), path+": field depth: want int, got JSON string") {
		t.Errorf("ReadConfig: %v", err)
	}
	if _, err := ReadConfig(dir, parse); err == nil {
		t.Error("ReadConfig(folder): no error")
	}
	if err := os.WriteFile(path, []byte(`{"depth": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := ReadConfig(path, parse); err != nil || c.Depth != 2 {
		t.Errorf("ReadConfig = %+v, %v", c, err)
	}
}

func TestBinderKeepsFirstError(t *testing.T) {
	b := NewBinder(2)
	first := errors.New("first")
	var ran atomic.Int32
	b.Go(func() { ran.Add(1); b.Fail(first) })
	if err := b.Wait(); err != first {
		t.Fatalf("Wait = %v, want %v", err, first)
	}
	for range 8 {
		b.Go(func() {
			ran.Add(1)
			if !b.Failed() {
				t.Error("Failed() = false after an error")
			}
			b.Fail(errors.New("later"))
		})
	}
	if err := b.Wait(); err != first {
		t.Errorf("Wait = %v, want the first error", err)
	}
	if ran.Load() != 9 {
		t.Errorf("%d tasks ran, want 9", ran.Load())
	}
	if err := NewBinder(0).Wait(); err != nil {
		t.Errorf("empty Binder: %v", err)
	}
}
