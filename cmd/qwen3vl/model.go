package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/qwen3vl/qwen3vl/hub"
	"github.com/qwen3vl/qwen3vl/vision"
)

// loadModel resolves a -model value: "random:PRESET[@SEED]" (synthetic weights of a released
// shape), a local checkpoint folder, or a Hugging Face hub id.
// The second result is the local checkpoint folder ("" for random: models), whose
// preprocessor_config.json the image flags read.
func loadModel(ctx context.Context, spec string, opts vision.Options, stderr io.Writer) (*vision.Model, string, error) {
	if cfg, seed, ok, err := vision.ParseRandom(spec); ok {
		if err != nil {
			return nil, "", usagef("-model %s: %v", spec, err)
		}
		fmt.Fprintf(stderr, "qwen3vl: NOTE: -model %s uses synthetic random weights (seed %d); the features mean nothing\n", spec, seed)
		m, err := vision.Random(cfg, seed, opts)
		return m, "", err
	}
	if spec == "" {
		return nil, "", usagef("-model is required: a checkpoint folder, a hub id such as %s, or random:PRESET (presets: %s)", hub.DefaultModel, strings.Join(vision.PresetNames(), ", "))
	}
	dir, err := resolveModel(ctx, spec, stderr)
	if err != nil {
		return nil, "", err
	}
	m, err := vision.Load(ctx, dir, opts)
	return m, dir, err
}

// weightsUsage documents the -weights flag of encode and bench.
const weightsUsage = "weights in memory: auto (bf16 when the checkpoint's vision tower is stored in bf16, as released checkpoints are; else f32), f32 (converted to float32 once, at load) or bf16 (kept as bfloat16, widened while multiplying: half the resident weights, about the same speed; same outputs for a bf16 checkpoint)"

// parseWeights turns a -weights value into vision.Options.Weights.
func parseWeights(s string) (vision.Weights, error) {
	w, err := vision.ParseWeights(s)
	if err != nil {
		return 0, usagef("-weights %q: want auto, f32 or bf16", s)
	}
	return w, nil
}

// resolveModel turns a local folder or a hub id (Org/Name[@revision]) into a local checkpoint
// folder: the Hugging Face cache in place when it holds the model, else a vision-only download
// into our own cache (see package hub).
func resolveModel(ctx context.Context, spec string, stderr io.Writer) (string, error) {
	o := hub.OptionsFromEnv()
	o.Logf = func(format string, a ...any) { fmt.Fprintf(stderr, "qwen3vl: "+format+"\n", a...) }
	return hub.Resolve(ctx, spec, o)
}
