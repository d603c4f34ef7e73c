package vision

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/checkpoint"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// prefixes under which checkpoints store the vision tower: the full Qwen3-VL model
// ("model.visual."), older exports ("visual."), and a bare vision tower ("").
var prefixes = []string{"model.visual.", "visual.", ""}

// topLevel are the first components of the vision tower's tensor names.
var topLevel = []string{"patch_embed.", "pos_embed.", "blocks.", "merger.", "deepstack_merger_list."}

// IsTensor reports whether a checkpoint tensor belongs to the vision tower: a name under
// "model.visual.", "visual." or no prefix, starting with one of the tower's modules. Load reads
// exactly these; other tools (such as a vision-only download) can select by it.
func IsTensor(name string) bool {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(name, p); ok {
			for _, t := range topLevel {
				if strings.HasPrefix(rest, t) {
					return true
				}
			}
		}
	}
	return false
}

// Load reads a checkpoint folder: config.json (a full Qwen3-VL config or a bare vision config)
// and its safetensors weights (model.safetensors, or shards listed by
// model.safetensors.index.json). Only the vision tower's tensors are read; shards holding none
// of them are never opened. Every tensor of the parameter table (Config.Tensors) is checked for
// presence and shape before any is read. Tensors may be stored as float32, float16 or bfloat16;
// opts.Weights says how the Linears' weights are held: by default (WeightsAuto) as bfloat16
// when the tower is stored in bfloat16, as in the released checkpoints, else as float32;
// WeightsF32 and WeightsBF16 force either. LayerNorm parameters, biases and the position table
// are always converted to float32.
func Load(ctx context.Context, dir string, opts Options) (*Model, error) {
	if err := checkpoint.Dir(dir); err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	cfg, err := ReadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	set, err := safetensors.OpenDir(dir, IsTensor)
	if err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	defer set.Close()
	src, err := newCheckpointSource(set)
	if err != nil {
		return nil, fmt.Errorf("vision: %s: %w", dir, err)
	}
	m, err := build(cfg, src, opts)
	if err != nil {
		return nil, fmt.Errorf("vision: %s: %w", dir, err)
	}
	return m, nil
}

// checkpointSource reads tensors of a safetensors set under one prefix.
type checkpointSource struct {
	set    *safetensors.Set
	prefix string
}

func newCheckpointSource(set *safetensors.Set) (*checkpointSource, error) {
	var found []string
	for _, p := range prefixes {
		if _, ok := set.Info(p + "patch_embed.proj.weight"); ok {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, errors.New("no vision tower weights (no tensor patch_embed.proj.weight under model.visual., visual. or no prefix)")
	case 1:
		return &checkpointSource{set: set, prefix: found[0]}, nil
	}
	return nil, fmt.Errorf("vision tower weights under several prefixes %q: ambiguous", found)
}

func (c *checkpointSource) shape(name string) ([]int, bool) {
	info, ok := c.set.Info(c.prefix + name)
	if !ok {
		return nil, false
	}
	return info.Shape, true
}

func (c *checkpointSource) bf16(name string) bool {
	info, ok := c.set.Info(c.prefix + name)
	return ok && info.DType == safetensors.BF16
}

func (c *checkpointSource) bf16Bits(name string) ([]uint16, error) {
	info, ok := c.set.Info(c.prefix + name)
	if !ok || info.DType != safetensors.BF16 {
		return nil, fmt.Errorf("not stored as %s", safetensors.BF16)
	}
	b, err := c.set.Bytes(c.prefix + name)
	if err != nil {
		return nil, err
	}
	w := make([]uint16, len(b)/2)
	for i := range w {
		w[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return w, nil
}

func (c *checkpointSource) float32s(name string) ([]float32, error) {
	return c.set.Float32(c.prefix + name)
}

func (c *checkpointSource) fullName(name string) string { return c.prefix + name }
