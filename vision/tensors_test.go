package vision

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// TestParamCountFromTable: ParamCount, the sum over Tensors and the sum of Costs' parameters
// agree for every preset; they equal the reference's count for the released 4B and 8B shapes;
// and the tiny tower's tensors are exactly the parameters of transformers' Qwen3VLVisionModel:
// testdata/golden/tiny-checkpoint holds its state_dict (all parameters, no buffers), written by
// tools/reference/make_goldens.py.
func TestParamCountFromTable(t *testing.T) {
	for _, name := range PresetNames() {
		cfg, _ := Preset(name)
		var sum, costs int64
		for _, s := range cfg.Tensors() {
			sum += int64(numel(s.Shape))
		}
		for _, c := range Costs(cfg, []Grid{{1, 2, 2}}) {
			costs += c.Params
		}
		if got := cfg.ParamCount(); got != sum || got != costs {
			t.Errorf("%s: ParamCount %d, sum over Tensors %d, sum over Costs %d", name, got, sum, costs)
		}
	}

	// The released 4B and 8B towers, from the reference's own config files: the parameter count
	// of transformers 5.24.0's Qwen3VLVisionModel built from each (on the meta device, the sum of
	// numel over model.parameters(); tools/reference's venv, 2026-12-03).
	for name, want := range map[string]int64{"qwen3-vl-4b": 415_347_712, "qwen3-vl-8b": 576_388_336} {
		cfg, err := ReadConfig("../testdata/golden/configs/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.ParamCount(); got != want {
			t.Errorf("%s: ParamCount %d, the reference's model has %d parameters", name, got, want)
		}
	}

	set, err := safetensors.OpenDir("../testdata/golden/tiny-checkpoint", IsTensor)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var ref int64
	shapes := map[string][]int{}
	for _, n := range set.Names() {
		info, _ := set.Info(n)
		ref += info.NumElements()
		shapes[strings.TrimPrefix(n, "model.visual.")] = info.Shape
	}
	cfg, _ := Preset("tiny")
	if got := cfg.ParamCount(); got != ref {
		t.Errorf("tiny: ParamCount %d, the reference's state_dict has %d", got, ref)
	}
	specs := cfg.Tensors()
	if len(specs) != len(shapes) {
		t.Errorf("tiny: %d tensors in the table, %d in the reference's state_dict", len(specs), len(shapes))
	}
	for _, s := range specs {
		if got, ok := shapes[s.Name]; !ok || !slices.Equal(got, s.Shape) {
			t.Errorf("tiny: %s: table shape %v, reference %v (present %v)", s.Name, s.Shape, got, ok)
		}
	}
}

// TestTableBindsEveryField: the parameter table has one destination per weight field of a
// Model (each distinct), and every Linear's weight row is followed by its bias.
func TestTableBindsEveryField(t *testing.T) {
	cfg, _ := Preset("tiny")
	m := new(Model)
	dests := map[uintptr]string{} // destination address → tensor name
	for _, mod := range cfg.modules(m) {
		for j, p := range mod.params {
			if !strings.HasPrefix(p.Name, mod.name+".") || p.Module != mod.name {
				t.Errorf("%s: in module %q (Module %q)", p.Name, mod.name, p.Module)
			}
			var d uintptr
			switch {
			case p.vec != nil && p.lin != nil:
				t.Errorf("%s: two destinations", p.Name)
			case p.vec != nil:
				d = reflect.ValueOf(p.vec).Pointer()
			case p.lin != nil:
				d = reflect.ValueOf(p.lin).Pointer()
				if next := mod.params[j+1]; next.Name != strings.TrimSuffix(p.Name, "weight")+"bias" || !slices.Equal(next.Shape, p.Shape[:1]) {
					t.Errorf("%s [%v] is followed by %s %v, not its bias", p.Name, p.Shape, next.Name, next.Shape)
				}
			default:
				if !strings.HasSuffix(p.Name, ".bias") || j == 0 || mod.params[j-1].lin == nil {
					t.Errorf("%s: no destination, and not a Linear's bias", p.Name)
				}
				continue
			}
			if other, ok := dests[d]; ok {
				t.Errorf("%s and %s share a destination", p.Name, other)
			}
			dests[d] = p.Name
		}
	}
	// Every []float32 and *kernels.Linear field reachable from the Model, except the rotary
	// frequencies (computed, not loaded), must be a destination.
	var fields []string // path@address
	addrs := map[string]uintptr{}
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		case reflect.Slice:
			if v.Type() == reflect.TypeFor[[]float32]() {
				if path != ".invFreq" {
					fields = append(fields, path)
					addrs[path] = v.UnsafeAddr()
				}
				return
			}
			for i := range v.Len() {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		case reflect.Pointer:
			if v.Type() == reflect.TypeFor[*kernels.Linear]() {
				fields = append(fields, path)
				addrs[path] = v.UnsafeAddr()
			}
		}
	}
	walk(reflect.ValueOf(m).Elem(), "")
	if len(fields) != len(dests) {
		t.Errorf("the Model has %d weight fields, the table %d destinations", len(fields), len(dests))
	}
	for _, f := range fields {
		if _, ok := dests[addrs[f]]; !ok {
			t.Errorf("Model%s is no destination of the table", f)
		}
	}
	if len(m.blocks) != cfg.Depth || len(m.deepstack) != len(cfg.DeepstackVisualIndexes) || m.merger.postShuffle {
		t.Errorf("modules sized %d blocks, %d DeepStack mergers, main merger post-shuffle %v", len(m.blocks), len(m.deepstack), m.merger.postShuffle)
	}
	for k, d := range m.deepstack {
		if !d.postShuffle {
			t.Errorf("DeepStack merger %d is not post-shuffle", k)
		}
	}
}

// TestCosts: the table's per-module costs sum to the closed form of the tower's work (the
// formula FLOPs used before the table: patch embedding, per block qkv, proj, the MLP and the
// attention products, and 1+k mergers), for several presets and grid lists.
func TestCosts(t *testing.T) {
	closedForm := func(c Config, grids []Grid) int64 {
		d, i, o, md := int64(c.HiddenSize), int64(c.IntermediateSize), int64(c.OutHiddenSize), int64(c.MergedDim())
		var n, attn int64
		for _, g := range grids {
			s := int64(g.H * g.W)
			n += int64(g.T) * s
			attn += int64(g.T) * s * s
		}
		tokens := n * d / md
		perBlock := 2*n*d*(3*d) + 2*n*d*d + 2*n*d*i*2 + 2*2*attn*d
		mergers := int64(1+len(c.DeepstackVisualIndexes)) * (2*tokens*md*md + 2*tokens*md*o)
		return 2*n*int64(c.PatchDim())*d + int64(c.Depth)*perBlock + mergers
	}
	for _, name := range []string{"tiny", "qwen3-vl-4b", "qwen3-vl-8b"} {
		cfg, _ := Preset(name)
		for _, grids := range [][]Grid{{{1, 18, 24}}, {{1, 2, 2}, {3, 4, 6}}, {{1, 64, 64}}} {
			costs := Costs(cfg, grids)
			var sum, attention int64
			for _, c := range costs {
				sum += c.FLOPs
				attention += c.Attention
			}
			if want := closedForm(cfg, grids); sum != want || FLOPs(cfg, grids) != want {
				t.Errorf("%s %v: Costs sum to %d FLOPs, FLOPs says %d, want %d", name, grids, sum, FLOPs(cfg, grids), want)
			}
			var squares int64
			for _, g := range grids {
				squares += int64(g.T) * int64(g.H*g.W) * int64(g.H*g.W)
			}
			if want := int64(cfg.Depth) * 4 * squares * int64(cfg.HiddenSize); attention != want {
				t.Errorf("%s %v: attention %d FLOPs, want %d", name, grids, attention, want)
			}
			if want := 2 + cfg.Depth + 1 + len(cfg.DeepstackVisualIndexes); len(costs) != want {
				t.Errorf("%s: %d modules, want %d", name, len(costs), want)
			}
		}
	}
}
