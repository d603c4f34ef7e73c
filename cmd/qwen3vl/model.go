package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/qwen3vl/qwen3vl/vision"
)

// defaultRandomSeed seeds random:PRESET models when no @SEED is given.
const defaultRandomSeed = 1

// loadModel resolves a -model value: "random:PRESET[@SEED]" (synthetic weights of a released
// shape) or a local checkpoint folder.
func loadModel(ctx context.Context, spec string, threads int, stderr io.Writer) (*vision.Model, error) {
	opts := vision.Options{Threads: threads}
	if rest, ok := strings.CutPrefix(spec, "random:"); ok {
		name, seedText, hasSeed := strings.Cut(rest, "@")
		seed := uint64(defaultRandomSeed)
		if hasSeed {
			s, err := strconv.ParseUint(seedText, 10, 64)
			if err != nil {
				return nil, usagef("-model %s: seed %q is not a non-negative integer", spec, seedText)
			}
			seed = s
		}
		cfg, err := vision.Preset(name)
		if err != nil {
			return nil, usagef("-model %s: %v", spec, err)
		}
		fmt.Fprintf(stderr, "qwen3vl: NOTE: -model %s uses synthetic random weights (seed %d); the features mean nothing\n", spec, seed)
		return vision.Random(cfg, seed, opts)
	}
	if spec == "" {
		return nil, usagef("-model is required: a checkpoint folder or random:PRESET (presets: %s)", strings.Join(vision.PresetNames(), ", "))
	}
	return vision.Load(ctx, spec, opts)
}
