package vision

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/gguf"
)

// A llama.cpp mmproj GGUF file holds the tower as llama.cpp's convert_hf_to_gguf.py writes it
// for Qwen3-VL (projector type "qwen3vl_merger"): the hyperparameters as clip.vision.* keys,
// the tensors under llama.cpp's names, and the Conv3d patch embedding split along time into
// two Conv2d kernels, v.patch_embd.weight (t = 0) and v.patch_embd.weight.1 (t = 1). The
// converter writes Qwen3-VL-MoE, Qwen3.5, Qwen3.5-MoE and Qwen4-Exp towers the same way (one
// writer class), the last three with every clip.vision.is_deepstack_layers flag false.

// ProjectorQwen3VL is the clip.projector_type of a Qwen3-VL (or Qwen3.5-family) mmproj file.
const ProjectorQwen3VL = "qwen3vl_merger"

// The GGUF names of the patch embedding's two temporal halves.
const (
	ggufPatch0 = "v.patch_embd.weight"
	ggufPatch1 = "v.patch_embd.weight.1"
)

// ggufNames maps a block's or merger's tensor (after "blocks.N." or the merger's prefix) to
// llama.cpp's name for it.
var ggufBlockNames = map[string]string{
	"norm1": "ln1", "norm2": "ln2", "attn.qkv": "attn_qkv", "attn.proj": "attn_out",
	"mlp.linear_fc1": "ffn_up", "mlp.linear_fc2": "ffn_down",
}

// ggufName is llama.cpp's name of the tower's tensor name (as vision/tensors.go names it);
// deepstack are the DeepStack blocks (GGUF numbers a DeepStack merger by its block).
func ggufName(name string, deepstack []int) (string, bool) {
	stem, suffix, ok := cutLast(name)
	if !ok {
		return "", false
	}
	switch {
	case stem == "patch_embed.proj":
		return "v.patch_embd." + suffix, true // .weight stands for both halves
	case name == "pos_embed.weight":
		return "v.position_embd.weight", true
	case stem == "merger.norm":
		return "v.post_ln." + suffix, true
	case stem == "merger.linear_fc1":
		return "mm.0." + suffix, true
	case stem == "merger.linear_fc2":
		return "mm.2." + suffix, true
	}
	if rest, ok := strings.CutPrefix(stem, "blocks."); ok {
		b, part, ok := strings.Cut(rest, ".")
		if g, known := ggufBlockNames[part]; ok && known {
			return "v.blk." + b + "." + g + "." + suffix, true
		}
	}
	if rest, ok := strings.CutPrefix(stem, "deepstack_merger_list."); ok {
		k, part, _ := strings.Cut(rest, ".")
		i, err := strconv.Atoi(k)
		g, known := map[string]string{"norm": "norm", "linear_fc1": "fc1", "linear_fc2": "fc2"}[part]
		if err == nil && known && i >= 0 && i < len(deepstack) {
			return fmt.Sprintf("v.deepstack.%d.%s.%s", deepstack[i], g, suffix), true
		}
	}
	return "", false
}

// cutLast splits "a.b.weight" into "a.b" and "weight".
func cutLast(name string) (string, string, bool) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return "", "", false
	}
	return name[:i], name[i+1:], true
}

// GGUF metadata keys read (llama.cpp's gguf-py constants).
const (
	ggufKeyProjector  = "clip.projector_type"
	ggufKeyHasVision  = "clip.has_vision_encoder"
	ggufKeyDepth      = "clip.vision.block_count"
	ggufKeyHidden     = "clip.vision.embedding_length"
	ggufKeyFFN        = "clip.vision.feed_forward_length"
	ggufKeyHeads      = "clip.vision.attention.head_count"
	ggufKeyPatch      = "clip.vision.patch_size"
	ggufKeyImageSize  = "clip.vision.image_size"
	ggufKeyMerge      = "clip.vision.spatial_merge_size"
	ggufKeyDeepstack  = "clip.vision.is_deepstack_layers"
	ggufKeyUseGELU    = "clip.use_gelu"
	ggufKeyUseSiLU    = "clip.use_silu"
	ggufKeyImageMean  = "clip.vision.image_mean"
	ggufKeyImageStd   = "clip.vision.image_std"
	ggufKeyMinPixels  = "clip.vision.image_min_pixels"
	ggufKeyMaxPixels  = "clip.vision.image_max_pixels"
	ggufKeyProjection = "clip.vision.projection_dim"
)

// ConfigFromGGUF derives the tower's Config from an mmproj file: the block count, widths, head
// count, patch and merge sizes and DeepStack blocks from its clip.vision.* keys; the input
// channels, the position table's size and the output width O from the tensors' shapes (the
// file's projection_dim is the text model's width, which O equals in every release but need
// not). The file must be a Qwen3-VL projector ("qwen3vl_merger") with the GELU (tanh) MLP.
// llama.cpp's layer-norm epsilon key is not used: the reference tower's LayerNorms use
// LayerNormEps whatever the converter wrote (it copies the text model's rms_norm_eps).
func ConfigFromGGUF(f *gguf.File) (Config, error) {
	proj, err := f.String(ggufKeyProjector)
	if err != nil {
		return Config{}, err
	}
	if proj != ProjectorQwen3VL {
		return Config{}, fmt.Errorf("projector type %q: this is not a Qwen3-VL vision tower (want %q)", proj, ProjectorQwen3VL)
	}
	if has, err := f.Bool(ggufKeyHasVision); err == nil && !has {
		return Config{}, fmt.Errorf("%s is false: the file holds no vision encoder", ggufKeyHasVision)
	}
	if silu, err := f.Bool(ggufKeyUseSiLU); err == nil && silu {
		return Config{}, fmt.Errorf("%s is true: the Qwen3-VL tower's MLP is GELU (tanh)", ggufKeyUseSiLU)
	}
	if gelu, err := f.Bool(ggufKeyUseGELU); err == nil && !gelu {
		return Config{}, fmt.Errorf("%s is false: the Qwen3-VL tower's MLP is GELU (tanh)", ggufKeyUseGELU)
	}
	cfg := Config{TemporalPatchSize: 2, HiddenAct: "gelu_pytorch_tanh"}
	for _, k := range []struct {
		key string
		dst *int
	}{
		{ggufKeyDepth, &cfg.Depth}, {ggufKeyHidden, &cfg.HiddenSize}, {ggufKeyFFN, &cfg.IntermediateSize},
		{ggufKeyHeads, &cfg.NumHeads}, {ggufKeyPatch, &cfg.PatchSize}, {ggufKeyMerge, &cfg.SpatialMergeSize},
	} {
		v, err := f.Int(k.key)
		if err != nil {
			return Config{}, err
		}
		if v < 1 || v > maxDim {
			return Config{}, fmt.Errorf("%s %d is out of range [1, %d]", k.key, v, maxDim)
		}
		*k.dst = int(v)
	}
	if flags, err := f.Bools(ggufKeyDeepstack); err == nil {
		if len(flags) != cfg.Depth {
			return Config{}, fmt.Errorf("%s has %d entries for %d blocks", ggufKeyDeepstack, len(flags), cfg.Depth)
		}
		for b, on := range flags {
			if on {
				cfg.DeepstackVisualIndexes = append(cfg.DeepstackVisualIndexes, b)
			}
		}
	} else if !errors.Is(err, gguf.ErrMissingKey) {
		return Config{}, err
	}
	// Shapes the keys do not give.
	patch, ok := f.Tensor(ggufPatch0)
	if !ok {
		return Config{}, fmt.Errorf("no tensor %s", ggufPatch0)
	}
	if s := patch.Shape(); len(s) == 4 {
		cfg.InChannels = s[1]
	} else {
		return Config{}, fmt.Errorf("tensor %s has shape %v, want [D, C, P, P]", ggufPatch0, s)
	}
	if _, ok := f.Tensor(ggufPatch1); !ok {
		return Config{}, fmt.Errorf("no tensor %s: the Qwen3-VL patch embedding has two temporal halves", ggufPatch1)
	}
	if pos, ok := f.Tensor("v.position_embd.weight"); ok && len(pos.Dims) == 2 {
		cfg.NumPositionEmbeddings = pos.Shape()[0]
	} else {
		return Config{}, errors.New("no 2-D tensor v.position_embd.weight")
	}
	if size, err := f.Int(ggufKeyImageSize); err == nil {
		side := int64(math.Sqrt(float64(cfg.NumPositionEmbeddings)))
		if size != side*int64(cfg.PatchSize) {
			return Config{}, fmt.Errorf("%s %d does not match the position table (%d positions of %d-pixel patches: %d)",
				ggufKeyImageSize, size, cfg.NumPositionEmbeddings, cfg.PatchSize, side*int64(cfg.PatchSize))
		}
	}
	if fc2, ok := f.Tensor("mm.2.weight"); ok && len(fc2.Dims) == 2 {
		cfg.OutHiddenSize = fc2.Shape()[0]
	} else {
		return Config{}, errors.New("no 2-D tensor mm.2.weight (the merger's output projection)")
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// GGUFImageNorm returns the file's image_mean and image_std (three values each), which the
// preprocessing must use.
func GGUFImageNorm(f *gguf.File) (mean, std [3]float64, err error) {
	for _, k := range []struct {
		key string
		dst *[3]float64
	}{{ggufKeyImageMean, &mean}, {ggufKeyImageStd, &std}} {
		v, err := f.Floats(k.key)
		if err != nil {
			return mean, std, err
		}
		if len(v) != 3 {
			return mean, std, fmt.Errorf("%s has %d values, want 3", k.key, len(v))
		}
		copy(k.dst[:], v)
	}
	return mean, std, nil
}

// GGUFPixels returns the file's image pixel budget, clip.vision.image_min_pixels and
// image_max_pixels (ollama's converter writes the preprocessor's size.shortest_edge and
// longest_edge there; llama.cpp's leaves them out for Qwen3-VL), each 0 when absent.
func GGUFPixels(f *gguf.File) (minPixels, maxPixels int, err error) {
	for _, k := range []struct {
		key string
		dst *int
	}{{ggufKeyMinPixels, &minPixels}, {ggufKeyMaxPixels, &maxPixels}} {
		v, err := f.Int(k.key)
		switch {
		case errors.Is(err, gguf.ErrMissingKey):
			continue
		case err != nil:
			return 0, 0, err
		case v < 1 || v > math.MaxInt32:
			return 0, 0, fmt.Errorf("gguf: %s: %s %d is out of range [1, %d]", f.Path, k.key, v, math.MaxInt32)
		}
		*k.dst = int(v)
	}
	return minPixels, maxPixels, nil
}

// LoadGGUF reads the tower from a llama.cpp mmproj GGUF file (see ConfigFromGGUF). Tensors may
// be F32, F16, BF16 or Q8_0: F16 and Q8_0 are widened (dequantized) to float32 at load; with
// opts.Weights WeightsAuto the Linears are held as bf16 only if every tensor the tower reads
// is stored as BF16 (which llama.cpp's converter never does: it keeps norms, biases and the
// patch embedding in F32), else as float32. Every tensor is checked for presence and shape
// before any is read. Errors name the file.
func LoadGGUF(ctx context.Context, path string, opts Options) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	defer f.Close()
	cfg, err := ConfigFromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("vision: %s: %w", path, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, err := build(cfg, &ggufSource{f: f, deepstack: cfg.DeepstackVisualIndexes}, opts)
	if err != nil {
		return nil, fmt.Errorf("vision: %s: %w", path, err)
	}
	return m, nil
}

// ggufSource yields the tower's tensors from an mmproj file, under the tower's names.
type ggufSource struct {
	f         *gguf.File
	deepstack []int
}

func (g *ggufSource) info(name string) (gguf.TensorInfo, bool) {
	n, ok := ggufName(name, g.deepstack)
	if !ok {
		return gguf.TensorInfo{}, false
	}
	return g.f.Tensor(n)
}

// isPatch reports whether name is the Conv3d kernel, stored as two halves.
func isPatch(name string) bool { return name == "patch_embed.proj.weight" }

// patchHalves returns the two halves' infos, checked to be alike and [D, C, P, P].
func (g *ggufSource) patchHalves() (t0, t1 gguf.TensorInfo, ok bool) {
	t0, ok0 := g.f.Tensor(ggufPatch0)
	t1, ok1 := g.f.Tensor(ggufPatch1)
	ok = ok0 && ok1 && len(t0.Dims) == 4 && slices.Equal(t0.Dims, t1.Dims)
	return t0, t1, ok
}

func (g *ggufSource) shape(name string) ([]int, bool) {
	if isPatch(name) {
		t0, _, ok := g.patchHalves()
		if !ok {
			return nil, false
		}
		s := t0.Shape() // [D, C, P, P] → [D, C, 2, P, P]
		return []int{s[0], s[1], 2, s[2], s[3]}, true
	}
	t, ok := g.info(name)
	if !ok {
		return nil, false
	}
	return t.Shape(), true
}

func (g *ggufSource) bf16(name string) bool {
	if isPatch(name) {
		t0, t1, ok := g.patchHalves()
		return ok && t0.Type == gguf.BF16 && t1.Type == gguf.BF16
	}
	t, ok := g.info(name)
	return ok && t.Type == gguf.BF16
}

// interleave joins the halves [D, C, P, P] of the patch kernel into [D, C, 2, P, P]: for each
// (d, c), the P² values of t = 0, then those of t = 1.
func interleave[T any](h0, h1 []T, dc, pp int) []T {
	out := make([]T, 0, 2*dc*pp)
	for i := range dc {
		out = append(out, h0[i*pp:(i+1)*pp]...)
		out = append(out, h1[i*pp:(i+1)*pp]...)
	}
	return out
}

func (g *ggufSource) bf16Bits(name string) ([]uint16, error) {
	bits := func(n string) ([]uint16, error) {
		b, t, err := g.f.Bytes(n)
		if err != nil {
			return nil, err
		}
		if t.Type != gguf.BF16 {
			return nil, fmt.Errorf("not stored as BF16 (%s)", t.Type)
		}
		w := make([]uint16, len(b)/2)
		for i := range w {
			w[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		return w, nil
	}
	if isPatch(name) {
		t0, _, ok := g.patchHalves()
		if !ok {
			return nil, errors.New("patch embedding halves missing or unlike")
		}
		h0, err := bits(ggufPatch0)
		if err != nil {
			return nil, err
		}
		h1, err := bits(ggufPatch1)
		if err != nil {
			return nil, err
		}
		return interleave(h0, h1, int(t0.Dims[3]*t0.Dims[2]), int(t0.Dims[1]*t0.Dims[0])), nil
	}
	n, _ := ggufName(name, g.deepstack)
	return bits(n)
}

func (g *ggufSource) float32s(name string) ([]float32, error) {
	if isPatch(name) {
		t0, _, ok := g.patchHalves()
		if !ok {
			return nil, errors.New("patch embedding halves missing or unlike")
		}
		h0, err := g.f.Float32s(ggufPatch0)
		if err != nil {
			return nil, err
		}
		h1, err := g.f.Float32s(ggufPatch1)
		if err != nil {
			return nil, err
		}
		return interleave(h0, h1, int(t0.Dims[3]*t0.Dims[2]), int(t0.Dims[1]*t0.Dims[0])), nil
	}
	n, ok := ggufName(name, g.deepstack)
	if !ok {
		return nil, fmt.Errorf("no GGUF name for %s", name)
	}
	return g.f.Float32s(n)
}

func (g *ggufSource) fullName(name string) string {
	if isPatch(name) {
		return ggufPatch0 + " and " + ggufPatch1
	}
	if n, ok := ggufName(name, g.deepstack); ok {
		return n
	}
	return name
}
