package pipeline

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

const (
	goldenDir = "../testdata/golden"
	inputsDir = "../testdata/imageproc/inputs"
)

func TestParseSpec(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		spec    string
		kind    Kind
		wantErr string
	}{
		{"random:tiny", Random, ""},
		{"random:qwen3-vl-4b@7", Random, ""},
		{"Qwen/Qwen3-VL-2B-Instruct", Hub, ""},
		{"Qwen/Qwen3-VL-2B-Instruct@main", Hub, ""},
		{dir, Folder, ""},
		{"./no/such/folder", Folder, ""},
		{"", 0, "no model given"},
		{"random:nope", 0, `unknown preset "nope"`},
		{"random:tiny@x", 0, `seed "x"`},
		{"Qwen/Bad Name", 0, "neither an existing folder nor a hub model id"},
	}
	for _, tc := range tests {
		s, err := ParseSpec(tc.spec)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSpec(%q) = %v, want an error containing %q", tc.spec, err, tc.wantErr)
			}
			if err != nil && strings.Count(err.Error(), ":") > 0 && (strings.Contains(err.Error(), "vision:") || strings.Contains(err.Error(), "hub:")) {
				t.Errorf("ParseSpec(%q): %q stutters through package prefixes", tc.spec, err)
			}
			continue
		}
		if err != nil || s.Kind != tc.kind {
			t.Errorf("ParseSpec(%q) = %v, %v; want kind %v", tc.spec, s.Kind, err, tc.kind)
		}
	}
	s, _ := ParseSpec("random:qwen3-vl-4b@7")
	if s.Preset != "qwen3-vl-4b" || s.Seed != 7 || s.Config.OutHiddenSize != 2560 {
		t.Errorf("random:qwen3-vl-4b@7 = %+v", s)
	}
	if _, err := ParseSpec(""); !errors.Is(err, ErrNoModel) {
		t.Errorf("empty spec: %v, want ErrNoModel", err)
	}
}

func TestOverridesValidate(t *testing.T) {
	tests := []struct {
		o       Overrides
		wantErr string
	}{
		{Overrides{}, ""},
		{Overrides{MinPixels: 1000, MaxPixels: 100}, "min pixels 1000 is larger than max pixels 100"},
		{Overrides{MinPixels: -1}, "min pixels -1 is negative"},
		{Overrides{VideoFPS: math.NaN()}, "video fps"},
		{Overrides{VideoFPS: -2}, "video fps"},
		{Overrides{FramesFPS: math.Inf(1)}, "frames fps"},
		{Overrides{MaxDecodePixels: -5}, "max decode pixels"},
	}
	for _, tc := range tests {
		err := tc.o.Validate()
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%+v.Validate() = %v, want %q", tc.o, err, tc.wantErr)
		}
	}
}

// TestResolveChecksBeforeLoading: a checkpoint's options are merged with the overrides and
// checked before any weight is read.
func TestResolveChecksBeforeLoading(t *testing.T) {
	ctx := context.Background()
	spec, _ := ParseSpec(filepath.Join(goldenDir, "tiny-checkpoint"))
	c, err := Resolve(ctx, spec, Options{Preprocess: Overrides{MaxPixels: 100000}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Image.MaxPixels != 100000 || c.Config.HiddenSize == 0 {
		t.Errorf("resolved %+v", c)
	}
	// The checkpoint's min_pixels (the released default 65536 here) above a given max.
	if _, err := Resolve(ctx, spec, Options{Preprocess: Overrides{MaxPixels: 1000}}); err == nil || !strings.Contains(err.Error(), "max pixels 1000 is below the checkpoint's minimum area of 65536") {
		t.Errorf("max pixels under the checkpoint's min: %v", err)
	}
	missing, _ := ParseSpec(filepath.Join(t.TempDir(), "nope"))
	if _, err := Resolve(ctx, missing, Options{}); err == nil || !strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "hub:") {
		t.Errorf("missing folder: %v", err)
	}
}

// TestBatchViews: items encoded in one batch and sliced back are, bit for bit, what encoding
// each alone gives, and Features.Tensors carries the contract's names.
func TestBatchViews(t *testing.T) {
	ctx := context.Background()
	p, err := Open(ctx, "random:tiny", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var items []Item
	for _, f := range []string{"grad_400x300.png", "gray_80x60.png", "edges_97x61.png"} {
		it, err := p.Prepare(ctx, Input{Path: filepath.Join(inputsDir, f)})
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	var b Batch
	for _, it := range items {
		b.Add(it)
	}
	res, err := p.Encode(ctx, &b)
	if err != nil {
		t.Fatal(err)
	}
	var all Features
	for i, it := range items {
		var one Batch
		one.Add(it)
		alone, err := p.Encode(ctx, &one)
		if err != nil {
			t.Fatal(err)
		}
		want, got := alone.Items(0, 1), res.Items(i, i+1)
		same(t, it.Name+" pooler", got.Pooler, want.Pooler)
		same(t, it.Name+" last", got.LastHidden, want.LastHidden)
		for k := range want.Deepstack {
			same(t, it.Name+" deepstack", got.Deepstack[k], want.Deepstack[k])
		}
		all.Append(got)
	}
	same(t, "appended pooler", all.Pooler, res.Items(0, 3).Pooler)
	first, n := all.Tokens(2)
	if want := items[0].Grid.Patches()/4 + items[1].Grid.Patches()/4; first != want || n != items[2].Grid.Patches()/4 {
		t.Errorf("Tokens(2) = %d, %d", first, n)
	}
	var names []string
	for _, tn := range all.Tensors() {
		names = append(names, tn.Name)
	}
	if got := strings.Join(names, " "); got != "pooler_output deepstack_features.0 deepstack_features.1 last_hidden_state grid_thw" {
		t.Errorf("tensors: %s", got)
	}
	md := p.Metadata(all.Items)
	if md["model"] != "random:tiny" || md["weights"] == "" || !strings.Contains(md["items"], "gray_80x60.png") {
		t.Errorf("metadata %v", md)
	}
}

func same(t *testing.T, what string, got, want vision.Matrix) {
	t.Helper()
	if got.Rows != want.Rows || got.Cols != want.Cols {
		t.Fatalf("%s: %dx%d, want %dx%d", what, got.Rows, got.Cols, want.Rows, want.Cols)
	}
	for i := range want.Data {
		if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
			t.Fatalf("%s: value %d = %v, want %v", what, i, got.Data[i], want.Data[i])
		}
	}
}

// TestReadPixelsLyingGrids: a pixels file whose grids describe more (or fewer) patches than its
// rows, or whose product would overflow, is refused before any row is read.
func TestReadPixelsLyingGrids(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, rows int, grid []int64) string {
		p := filepath.Join(dir, name)
		ts := []safetensors.Tensor{
			safetensors.F32Tensor("pixel_values", []int{rows, 1536}, make([]float32, rows*1536)),
			safetensors.I64Tensor("image_grid_thw", []int{len(grid) / 3, 3}, grid),
		}
		if err := safetensors.WriteFile(p, ts, nil); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		rows    int
		grid    []int64
		wantErr string
	}{
		{"ok", 16, []int64{1, 4, 4}, ""},
		{"wraps", 16, []int64{4096, 1 << 26, 1 << 26}, "out of range"},
		{"more", 16, []int64{1, 4, 8}, "more patches than the 16 rows"},
		{"fewer", 16, []int64{1, 2, 4}, "describes 8 patches but pixel_values has 16 rows"},
		{"negative", 16, []int64{1, -4, -4}, "out of range"},
	}
	for _, tc := range tests {
		items, err := ReadPixels(write(tc.name+".safetensors", tc.rows, tc.grid))
		if tc.wantErr == "" {
			if err != nil || len(items) != 1 || len(items[0].Pixels) != 16*1536 {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	if _, err := ReadPixels(filepath.Join(dir, "missing.safetensors")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
