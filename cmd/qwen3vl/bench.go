package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
	"github.com/qwen3vl/qwen3vl/internal/synth"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

// benchResult is the final JSON line of `qwen3vl bench`; tools/reference/bench_torch.py prints
// the same fields for PyTorch.
type benchResult struct {
	Engine     string  `json:"engine"`
	Model      string  `json:"model"`
	Grid       [3]int  `json:"grid"`
	Patches    int     `json:"patches"`
	Threads    int     `json:"threads"`
	Weights    string  `json:"weights"`
	Compute    string  `json:"compute"`
	Runs       int     `json:"runs"`
	LoadS      float64 `json:"load_s"`
	MedianS    float64 `json:"median_s"`
	MinS       float64 `json:"min_s"`
	MaxS       float64 `json:"max_s"`
	GFLOP      float64 `json:"gflop"`
	GFLOPS     float64 `json:"gflops"`
	PeakGFLOPS float64 `json:"peak_gflops,omitempty"`
	PctPeak    float64 `json:"pct_peak,omitempty"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "bench -model random:PRESET|DIR -grid T,H,W [-runs N] [-threads N] [-weights auto|f32|bf16] [-compute f32|bf16|auto]\n"+
		"       qwen3vl bench -generate -model random:PRESET|DIR|ID [-image F] [-prompt S] [-tokens N] [-runs N] [-warmup N] [-threads N] [-weights auto|f32|bf16] [-compute f32|bf16|auto] [-tokenizer DIR]\n"+
		"       qwen3vl bench -peak [-threads N]", stderr)
	model := fs.String("model", "random:qwen3-vl-4b", modelUsage)
	gridFlag := fs.String("grid", "1,18,24", "patch grid t,h,w of one item (the default is the 400×300 seed image: 432 patches); not with -generate")
	runs := fs.Int("runs", 3, "timed encodes (with -generate: timed answers) after the warm-up")
	warmup := fs.Int("warmup", 1, "untimed encodes (answers) before the timed ones")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the kernels")
	weights := fs.String("weights", "auto", weightsUsage)
	compute := fs.String("compute", "f32", computeUsage+"; with -generate, the text decoder's too (its attention stays float32); with bf16 the percentages are of the bf16 dot-product peak")
	peakOnly := fs.Bool("peak", false, "only measure this machine's float32 FMA peak, its bf16 dot-product (VDPBF16PS) peak where the CPU has AVX512_BF16, and memory bandwidth (read, copy, triad), and exit")
	peakSecs := fs.Float64("peak-seconds", 2, "how long to measure the peak (0: skip; percentages are then left out); with -generate, the FMA peak and the read bandwidth, each this long")
	generate := fs.Bool("generate", false, "time the whole model as ask runs it: the image and -prompt in one user turn, then -tokens greedy tokens (eos ignored): encode, prefill, time to first token, decode tokens/s")
	image := fs.String("image", repoSeedImage, "with -generate: the image of the prompt")
	prompt := fs.String("prompt", "Describe this image.", "with -generate: the text of the user turn, after the image")
	tokens := fs.Int("tokens", 64, "with -generate: new tokens per answer (exactly this many: eos is ignored)")
	tokenizer := fs.String("tokenizer", "", "with -generate: folder holding tokenizer.json, tokenizer_config.json and a chat template, instead of the checkpoint's (default for random:PRESET: "+repoTokenizer+")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *threads < 1 || *runs < 1 || *warmup < 0 {
		return usagef("-threads and -runs must be ≥ 1, -warmup ≥ 0")
	}
	if !(*peakSecs >= 0) || *peakSecs > 600 {
		return usagef("-peak-seconds %v: want 0 to 600", *peakSecs)
	}
	wmode, err := parseWeights(*weights)
	if err != nil {
		return err
	}
	cmode, err := parseCompute(*compute)
	if err != nil {
		return err
	}
	if err := checkCompute(cmode, wmode); err != nil {
		return err
	}
	for _, name := range []string{"image", "prompt", "tokens", "tokenizer"} {
		if !*generate && flagGiven(fs, name) {
			return usagef("-%s is a flag of bench -generate", name)
		}
	}
	if *generate {
		switch {
		case flagGiven(fs, "grid"):
			return usagef("-grid is not a flag of bench -generate: the grid is the -image's")
		case *peakOnly:
			return usagef("-peak and -generate exclude each other")
		case *tokens < 1 || *tokens > 1<<16:
			return usagef("-tokens %d: want 1 to 65536", *tokens)
		case *image == "":
			return usagef("-image is empty")
		}
		return runBenchGenerate(ctx, generateFlags{model: *model, weights: *weights, image: *image, prompt: *prompt, tokenizer: *tokenizer,
			threads: *threads, runs: *runs, warmup: *warmup, tokens: *tokens, peakSecs: *peakSecs, compute: cmode}, wmode, stdout, stderr)
	}
	grid, err := parseGrid(*gridFlag)
	if err != nil && !*peakOnly {
		return err
	}
	// The model first: a -compute bf16 this CPU cannot do fails before the peak is measured.
	var p *pipeline.Pipeline
	var loadS float64
	if !*peakOnly {
		start := time.Now()
		if p, err = openModel(ctx, *model, pipelineOptions(vision.Options{Threads: *threads, Weights: wmode, Compute: cmode}, pipeline.Overrides{}, stderr)); err != nil {
			return err
		}
		loadS = time.Since(start).Seconds()
	}
	var peak float64
	if *peakOnly || *peakSecs > 0 {
		d := time.Duration(*peakSecs * float64(time.Second))
		if *peakOnly && d <= 0 {
			d = 2 * time.Second
		}
		peak = kernels.PeakGFLOPS(*threads, d)
		fmt.Fprintf(stderr, "peak: %.1f GFLOP/s on %d threads (%s kernel; bf16: %s)\n", peak, *threads, kernels.Name(), kernels.BF16())
		if !*peakOnly && p.Model.Compute() == vision.ComputeBF16 {
			bf, _ := kernels.PeakBF16GFLOPS(*threads, d)
			fmt.Fprintf(stderr, "bf16 dot-product peak: %.1f GFLOP/s on %d threads (the percentage below is of it)\n", bf, *threads)
			peak = bf
		}
		if *peakOnly {
			out := map[string]any{"peak_gflops": peak}
			if bf, ok := kernels.PeakBF16GFLOPS(*threads, d); ok {
				fmt.Fprintf(stderr, "bf16 dot-product peak: %.1f GFLOP/s on %d threads (VDPBF16PS on ZMM, 64 FLOP each; %.2f× the float32 FMA peak)\n", bf, *threads, bf/peak)
				out["bf16_peak_gflops"] = bf
			} else {
				fmt.Fprintf(stderr, "bf16 dot-product peak: skipped (bf16: %s)\n", kernels.BF16())
			}
			bw := kernels.MeasureBandwidth(*threads, d, true)
			fmt.Fprintf(stderr, "memory bandwidth on %d threads, best pass over arrays of %d MiB (%s read loop): read %.1f GB/s, copy %.1f GB/s, triad %.1f GB/s (STREAM's counting: no write-allocate traffic)\n",
				*threads, bw.ArrayBytes>>20, bw.Kernel, bw.Read, bw.Copy, bw.Triad)
			for k, v := range map[string]any{"read_gbps": bw.Read, "copy_gbps": bw.Copy, "triad_gbps": bw.Triad,
				"array_mib": bw.ArrayBytes >> 20, "bandwidth_kernel": bw.Kernel, "threads": *threads, "kernel": kernels.Name(), "bf16": kernels.BF16().String()} {
				out[k] = v
			}
			return json.NewEncoder(stdout).Encode(out)
		}
	}
	m := p.Model
	res := benchResult{Engine: "qwen3vl-go/" + kernels.Name(), Model: *model, Grid: [3]int{grid.T, grid.H, grid.W},
		Patches: grid.Patches(), Threads: *threads, Weights: m.Weights().String(), Compute: m.Compute().String(), Runs: *runs, LoadS: loadS}
	pixels := make([]float32, grid.Patches()*m.Config().PatchDim())
	synth.Fill(pixels, 1, "pixel_values", 1, 0)
	grids := []vision.Grid{grid}
	res.GFLOP = float64(vision.FLOPs(m.Config(), grids)) / 1e9

	var times []float64
	for i := -*warmup; i < *runs; i++ { // i < 0: warm-up
		t0 := time.Now()
		if _, err := m.Encode(ctx, pixels, grids); err != nil {
			return err
		}
		if i >= 0 {
			times = append(times, time.Since(t0).Seconds())
		}
	}
	slices.Sort(times)
	res.MedianS, res.MinS, res.MaxS = median(times), times[0], times[len(times)-1]
	res.GFLOPS = res.GFLOP / res.MedianS
	if peak > 0 {
		res.PeakGFLOPS, res.PctPeak = peak, 100*res.GFLOPS/peak
	}
	res.PeakRSSMiB = peakRSSMiB()

	fmt.Fprintf(stdout, "%-28s %8s %8s %8s %8s %9s %8s %10s\n", "model", "median s", "min s", "max s", "GFLOP", "GFLOP/s", "% peak", "peak RSS")
	fmt.Fprintf(stdout, "%-28s %8.3f %8.3f %8.3f %8.1f %9.1f %8.1f %7.0f MiB\n",
		res.Model, res.MedianS, res.MinS, res.MaxS, res.GFLOP, res.GFLOPS, res.PctPeak, res.PeakRSSMiB)
	return json.NewEncoder(stdout).Encode(res)
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// parseGrid parses "t,h,w".
func parseGrid(s string) (vision.Grid, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return vision.Grid{}, usagef("-grid %q: want t,h,w", s)
	}
	var v [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 || n > 1<<16 {
			return vision.Grid{}, usagef("-grid %q: %q is not a size from 1 to 65536", s, p)
		}
		v[i] = n
	}
	return vision.Grid{T: v[0], H: v[1], W: v[2]}, nil
}
