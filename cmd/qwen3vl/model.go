package main

import (
	"context"
	"fmt"
	"io"

	"github.com/qwen3vl/qwen3vl/hub"
	"github.com/qwen3vl/qwen3vl/internal/checkpoint"
	"github.com/qwen3vl/qwen3vl/internal/kernels"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

// modelUsage documents the -model flag of encode and bench.
const modelUsage = "checkpoint folder (config.json + safetensors), hub id Org/Name[@revision], llama.cpp mmproj file FILE.gguf (or a folder holding one mmproj-*.gguf), ollama:NAME[:TAG] (the projector of a model in ollama's store), or random:PRESET[@SEED] for synthetic weights"

// pipelineOptions are the pipeline's options for the command: the hub from the environment
// (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, caches), its notes on stderr.
func pipelineOptions(vo vision.Options, ov pipeline.Overrides, stderr io.Writer) pipeline.Options {
	return pipeline.Options{
		Vision:     vo,
		Hub:        hub.OptionsFromEnv(),
		Preprocess: ov,
		Logf:       func(format string, a ...any) { fmt.Fprintf(stderr, "qwen3vl: "+format+"\n", a...) },
	}
}

// parseSpec parses a -model value; a malformed one is a usage error.
func parseSpec(spec string) (pipeline.Spec, error) {
	s, err := pipeline.ParseSpec(spec)
	if err != nil {
		return s, usageError{describe(err)}
	}
	return s, nil
}

// parseTextSpec parses the -model value of a command that needs the language model or the
// tokenizer: a GGUF mmproj file, a vision tower alone, is a usage error too.
func parseTextSpec(spec string) (pipeline.Spec, error) {
	s, err := parseSpec(spec)
	if err != nil {
		return s, err
	}
	if err := s.CheckText(); err != nil {
		return s, usageError{describe(err)}
	}
	return s, nil
}

// openModel resolves and loads a -model value.
func openModel(ctx context.Context, spec string, opts pipeline.Options) (*pipeline.Pipeline, error) {
	s, err := parseSpec(spec)
	if err != nil {
		return nil, err
	}
	c, err := pipeline.Resolve(ctx, s, opts)
	if err != nil {
		return nil, err
	}
	return c.Load(ctx)
}

// weightsUsage documents the -weights flag of encode and bench.
const weightsUsage = "weights in memory: auto (bf16 when the checkpoint's vision tower is stored in bf16, as released checkpoints are; else f32), f32 (converted to float32 once, at load) or bf16 (kept as bfloat16, widened while multiplying: half the resident weights, about the same speed; same outputs for a bf16 checkpoint)"

// computeUsage documents the -compute flag of encode, bench and serve.
const computeUsage = "arithmetic of the multiplications: f32 (the default: float32, held to the reference at float32's precision), bf16 (bfloat16 weights times activations rounded to bfloat16, float32 accumulation: about twice the speed, about half PyTorch bfloat16's error; needs AVX512_BF16, see `qwen3vl version`) or auto (bf16 where the CPU has it, else f32)"

// parseCompute turns a -compute value into vision.Options.Compute.
func parseCompute(s string) (vision.Compute, error) {
	c, err := vision.ParseCompute(s)
	if err != nil {
		return 0, usagef("-compute %q: want f32, bf16 or auto", s)
	}
	return c, nil
}

// checkCompute refuses, before any model is resolved (a hub download may come first), a
// -compute that this machine or the -weights value rules out, naming the flags.
func checkCompute(c vision.Compute, w vision.Weights) error {
	if _, _, err := checkpoint.ResolveCompute(c, w, kernels.BF16Dot()); err != nil {
		return usagef("-compute %v with -weights %v: %v (bf16 here: %s)", c, w, err, kernels.BF16())
	}
	return nil
}

// parseWeights turns a -weights value into vision.Options.Weights.
func parseWeights(s string) (vision.Weights, error) {
	w, err := vision.ParseWeights(s)
	if err != nil {
		return 0, usagef("-weights %q: want auto, f32 or bf16", s)
	}
	return w, nil
}
