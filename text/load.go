package text

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/checkpoint"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// IsTensor reports whether a checkpoint tensor belongs to the text decoder: a name under
// "model.language_model." or lm_head.weight. Load reads exactly these; a vision-only or
// text-only read can select by it (vision.IsTensor is the other half).
func IsTensor(name string) bool {
	return strings.HasPrefix(name, Prefix) || name == LMHead
}

// Load reads a checkpoint folder: config.json (a full Qwen3-VL config or a bare text config)
// and its safetensors weights (model.safetensors, or shards listed by
// model.safetensors.index.json). Only the decoder's tensors are read; shards holding none of
// them are never opened. Every tensor of the parameter table (Config.Tensors) is checked for
// presence and shape, and the resident size (Config.ResidentBytes) against the memory
// available, before any is read. Tensors may be float32, float16 or bfloat16; opts.Weights says
// how they are held (see Weights).
func Load(ctx context.Context, dir string, opts Options) (*Model, error) {
	if err := checkpoint.Dir(dir); err != nil {
		return nil, fmt.Errorf("text: %w", err)
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
		return nil, fmt.Errorf("text: %w", err)
	}
	defer set.Close()
	if _, ok := set.Info(Prefix + "embed_tokens.weight"); !ok {
		return nil, fmt.Errorf("text: %s: no language model weights (no tensor %sembed_tokens.weight): a vision-only checkpoint?", dir, Prefix)
	}
	src := &checkpointSource{set: set}
	if err := checkTensors(cfg, src); err != nil {
		return nil, fmt.Errorf("text: %s: %w", dir, err)
	}
	w, err := resolveWeights(cfg, src, opts.Weights)
	if err != nil {
		return nil, fmt.Errorf("text: %w", err)
	}
	if avail, ok := memAvailableFunc(); ok {
		if need := cfg.ResidentBytes(w); need > avail {
			return nil, fmt.Errorf("text: %s: the decoder needs %s of memory with %v weights but %s is available (MemAvailable in /proc/meminfo)",
				dir, gib(need), w, gib(avail))
		}
	}
	opts.Weights = w
	m, err := build(cfg, src, opts)
	if err != nil {
		return nil, fmt.Errorf("text: %s: %w", dir, err)
	}
	return m, nil
}

func gib(n int64) string { return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30)) }

// memAvailableFunc is memAvailable, replaced in tests.
var memAvailableFunc = memAvailable

// memAvailable reads MemAvailable from /proc/meminfo, in bytes; ok is false where there is none.
func memAvailable() (int64, bool) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || kb < 0 {
				return 0, false
			}
			return kb << 10, true
		}
	}
	return 0, false
}

// checkpointSource reads tensors of a safetensors set by their full names.
type checkpointSource struct{ set *safetensors.Set }

func (c *checkpointSource) shape(name string) ([]int, bool) {
	info, ok := c.set.Info(name)
	if !ok {
		return nil, false
	}
	return info.Shape, true
}

func (c *checkpointSource) bf16(name string) bool {
	info, ok := c.set.Info(name)
	return ok && info.DType == safetensors.BF16
}

func (c *checkpointSource) bf16Bits(name string) ([]uint16, error) {
	info, ok := c.set.Info(name)
	if !ok || info.DType != safetensors.BF16 {
		return nil, fmt.Errorf("not stored as %s", safetensors.BF16)
	}
	b, err := c.set.Bytes(name)
	if err != nil {
		return nil, err
	}
	w := make([]uint16, len(b)/2)
	for i := range w {
		w[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return w, nil
}

func (c *checkpointSource) float32s(name string) ([]float32, error) { return c.set.Float32(name) }
