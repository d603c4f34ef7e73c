package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/text"
	"github.com/qwen3vl/qwen3vl/vision"
)

// repoSeedImage is bench -generate's default image: the 400×300 seed image (grid 1,18,24: 432
// patches, 108 tokens), found when the command runs from the repository's root.
const repoSeedImage = "testdata/imageproc/inputs/grad_400x300.png"

// generateResult is the final JSON line of `qwen3vl bench -generate`;
// tools/reference/bench_torch_generate.py prints the same fields for PyTorch. Times are medians
// over the timed runs unless named otherwise; rates are computed from those medians.
type generateResult struct {
	Engine string `json:"engine"`
	Mode   string `json:"mode"` // "generate"
	Model  string `json:"model"`
	// Threads are the kernels' goroutines; Weights the form the decoder's weights are held
	// in (f32 or bf16), VisionWeights the tower's; Compute the arithmetic of both (f32 or bf16).
	Threads       int     `json:"threads"`
	Weights       string  `json:"weights"`
	VisionWeights string  `json:"vision_weights"`
	Compute       string  `json:"compute"`
	Runs          int     `json:"runs"`
	Warmup        int     `json:"warmup"`
	LoadS         float64 `json:"load_s"`
	// Image is the image file; Grid its patch grid t,h,w and Patches t·h·w.
	Image   string `json:"image"`
	Grid    [3]int `json:"grid"`
	Patches int    `json:"patches"`
	// PromptTokens are the prompt's ids (the chat template applied to one user turn, the
	// image's pads expanded), VisionTokens the pads among them, NewTokens the generated ids
	// per run (greedy, eos ignored: always the -tokens asked for).
	PromptTokens int `json:"prompt_tokens"`
	VisionTokens int `json:"vision_tokens"`
	NewTokens    int `json:"new_tokens"`
	// PreprocessS is the image's decoding and preprocessing (pipeline Prepare), outside the
	// time to the first token.
	PreprocessS float64 `json:"preprocess_s"`
	// EncodeS is the vision tower's encode with the placing of its rows in the prompt's
	// embeddings (pipeline.Answer.Encode); PrefillS the decoder's prefill of the prompt.
	EncodeS  float64 `json:"encode_s"`
	PrefillS float64 `json:"prefill_s"`
	// TTFTS runs from the call of Ask (the chat template's rendering, the encode, the prefill)
	// to the choice of the first new token; the min and max are over the runs.
	TTFTS    float64 `json:"ttft_s"`
	TTFTMinS float64 `json:"ttft_min_s"`
	TTFTMaxS float64 `json:"ttft_max_s"`
	// VisionGFLOP is the encode's work (vision.FLOPs), PrefillGFLOP the prefill's
	// (text.FLOPs of the prompt with logits for its last row); each rate divides by its own
	// time, and its percentage is of PeakGFLOPS.
	VisionGFLOP    float64 `json:"vision_gflop"`
	EncodeGFLOPS   float64 `json:"encode_gflops"`
	EncodePctPeak  float64 `json:"encode_pct_peak,omitempty"`
	PrefillGFLOP   float64 `json:"prefill_gflop"`
	PrefillGFLOPS  float64 `json:"prefill_gflops"`
	PrefillPctPeak float64 `json:"prefill_pct_peak,omitempty"`
	// DecodeStepS is the median over all timed runs of the time between consecutive new
	// tokens (one decode step with its sampling); DecodeTokS is its inverse. DecodeS is the
	// median over the runs of the time from the first new token to the last.
	DecodeStepS float64 `json:"decode_step_s"`
	DecodeTokS  float64 `json:"decode_tok_s"`
	DecodeS     float64 `json:"decode_s"`
	// DecodeWeightBytes are the weight bytes one decode step reads (decodeWeightBytes);
	// DecodeKVBytes the keys and values its attention reads, on average over the steps
	// (not in DecodeGBPS). DecodeGBPS is DecodeWeightBytes·DecodeTokS in 10⁹ bytes/s, and
	// DecodePctBandwidth its percentage of ReadGBPS.
	DecodeWeightBytes  int64   `json:"decode_weight_bytes"`
	DecodeKVBytes      int64   `json:"decode_kv_bytes"`
	DecodeGBPS         float64 `json:"decode_gbps"`
	DecodePctBandwidth float64 `json:"decode_pct_bandwidth,omitempty"`
	// PeakGFLOPS is the float32 FMA peak (kernels.PeakGFLOPS) and ReadGBPS the memory read
	// bandwidth (kernels.PeakBandwidth), both measured in this run before the model is
	// loaded, on Threads goroutines; left out with -peak-seconds 0. PeakBF16GFLOPS is the
	// VDPBF16PS peak (kernels.PeakBF16GFLOPS), measured with -compute bf16 or auto where the
	// CPU has it: the percentages of peak are then of it.
	PeakGFLOPS     float64 `json:"peak_gflops,omitempty"`
	PeakBF16GFLOPS float64 `json:"peak_bf16_gflops,omitempty"`
	ReadGBPS       float64 `json:"read_gbps,omitempty"`
	// ReadAfterGBPS is the read bandwidth measured again right after each timed answer's last
	// token (for a quarter of -peak-seconds), and DecodePctBandwidthPaired the median over the
	// timed answers of that answer's decode rate (DecodePctBandwidthRuns, in run order) (its median step) as a percentage of the
	// bandwidth measured right after it: a figure that holds where the machine's bandwidth
	// moves between the start of the run and its end (a VM's vCPUs moved between core
	// complexes, noisy neighbours), as it does on the machines this was written on (two
	// levels, ~36 and ~63 GB/s, minutes apart). Left out with -peak-seconds 0.
	ReadAfterGBPS            []float64 `json:"read_after_gbps,omitempty"`
	DecodePctBandwidthRuns   []float64 `json:"decode_pct_bandwidth_runs,omitempty"`
	DecodePctBandwidthPaired float64   `json:"decode_pct_bandwidth_paired,omitempty"`
	PeakRSSMiB               float64   `json:"peak_rss_mib"`
}

// generateFlags are bench -generate's settings (checked by runBench).
type generateFlags struct {
	model, weights, image, prompt, tokenizer string
	threads, runs, warmup, tokens            int
	peakSecs                                 float64
	compute                                  vision.Compute // the tower's and the decoder's
}

// runBenchGenerate times what `qwen3vl ask -image IMAGE PROMPT` does with greedy decoding and
// eos ignored: -warmup untimed runs, then -runs timed ones, each a Prepare of the image and an
// Assistant.Ask on a new session; it prints a table and the generateResult JSON line.
func runBenchGenerate(ctx context.Context, f generateFlags, wmode vision.Weights, stdout, stderr io.Writer) error {
	spec, err := parseTextSpec(f.model)
	if err != nil {
		return err
	}
	in := pipeline.Input{Path: f.image}
	if _, err := checkInputs(ctx, []pipeline.Input{in}, pipeline.Overrides{}, false, stderr); err != nil {
		if f.image == repoSeedImage {
			return fmt.Errorf("%w (the default -image is relative to the repository's root)", err)
		}
		return err
	}
	conv, err := askConversation("", 1, 0, f.prompt)
	if err != nil {
		return err
	}
	opts := pipeline.AssistantOptions{
		Options:   pipelineOptions(vision.Options{Threads: f.threads, Weights: wmode, Compute: f.compute}, pipeline.Overrides{}, stderr),
		Decoder:   text.Options{Threads: f.threads, Weights: wmode, Compute: f.compute},
		Tokenizer: f.tokenizer,
	}
	if opts.Tokenizer == "" && spec.Kind == pipeline.Random {
		if _, err := os.Stat(repoTokenizer); err != nil {
			return usagef("model %s has no tokenizer: give -tokenizer DIR (a folder holding tokenizer.json), or run from the repository's root, where %s is", spec.Text, repoTokenizer)
		}
		opts.Tokenizer = repoTokenizer
	}

	res := generateResult{Engine: "qwen3vl-go/" + kernels.Name(), Mode: "generate", Model: f.model, Threads: f.threads,
		Runs: f.runs, Warmup: f.warmup, Image: f.image, NewTokens: f.tokens}
	if f.peakSecs > 0 {
		// Before the model is loaded: the bandwidth arrays and the weights are never resident
		// together.
		d := time.Duration(f.peakSecs * float64(time.Second))
		res.PeakGFLOPS = kernels.PeakGFLOPS(f.threads, d)
		bw := kernels.MeasureBandwidth(f.threads, d, false)
		res.ReadGBPS = bw.Read
		fmt.Fprintf(stderr, "peak: %.1f GFLOP/s (%s kernel), memory read %.1f GB/s (%s loop, %d MiB), %d threads\n",
			res.PeakGFLOPS, kernels.Name(), bw.Read, bw.Kernel, bw.ArrayBytes>>20, f.threads)
		if f.compute != vision.ComputeF32 {
			if bf, ok := kernels.PeakBF16GFLOPS(f.threads, d); ok {
				res.PeakBF16GFLOPS = bf
				fmt.Fprintf(stderr, "bf16 dot-product peak: %.1f GFLOP/s on %d threads\n", bf, f.threads)
			}
		}
	}

	start := time.Now()
	a, err := pipeline.OpenAssistant(ctx, spec, opts)
	if err != nil {
		return err
	}
	res.LoadS = time.Since(start).Seconds()
	res.Weights, res.VisionWeights = a.Decoder.Weights().String(), a.Model.Weights().String()
	res.Compute = a.Decoder.Compute().String()
	gen := a.Generation
	// Greedy, no penalties, exactly f.tokens new ids: no eos, no stop strings, no length cap.
	gen.DoSample, gen.Temperature, gen.TopK, gen.TopP, gen.MinP = false, 0, 0, 1, 0
	gen.RepetitionPenalty, gen.PresencePenalty, gen.FrequencyPenalty = 1, 0, 0
	gen.MaxNewTokens, gen.MaxLength, gen.EOS, gen.StopStrings = f.tokens, 0, nil, nil

	var prep, enc, pre, ttft, dec, steps, paired []float64
	for i := -f.warmup; i < f.runs; i++ { // i < 0: warm-up
		t0 := time.Now()
		item, err := a.Prepare(ctx, in)
		if err != nil {
			return err
		}
		prepS := time.Since(t0).Seconds()
		ans, err := a.Ask(ctx, conv, []pipeline.Item{item}, gen, func(string) error { return nil })
		if err != nil {
			return err
		}
		if len(ans.TokenTimes) != f.tokens {
			return fmt.Errorf("bench: %d tokens generated (%s), want %d", len(ans.TokenTimes), ans.Reason, f.tokens)
		}
		if i == -f.warmup {
			g := item.Grid
			res.Grid, res.Patches = [3]int{g.T, g.H, g.W}, g.Patches()
			res.PromptTokens, res.VisionTokens = len(ans.PromptIDs), ans.ImageTokens
		}
		if i < 0 {
			continue
		}
		tt := ans.TokenTimes
		if f.peakSecs > 0 && len(tt) > 1 {
			bw := kernels.PeakBandwidth(f.threads, time.Duration(f.peakSecs*float64(time.Second)/4))
			run := make([]float64, 0, len(tt)-1)
			for k := 1; k < len(tt); k++ {
				run = append(run, (tt[k] - tt[k-1]).Seconds())
			}
			slices.Sort(run)
			gbps := float64(decodeWeightBytes(a.Decoder.Config(), a.Decoder.Weights())) / median(run) / 1e9
			res.ReadAfterGBPS, paired = append(res.ReadAfterGBPS, bw), append(paired, 100*gbps/bw)
			res.DecodePctBandwidthRuns = append(res.DecodePctBandwidthRuns, 100*gbps/bw)
		}
		prep, enc, pre = append(prep, prepS), append(enc, ans.Encode.Seconds()), append(pre, ans.Prefill.Seconds())
		ttft, dec = append(ttft, tt[0].Seconds()), append(dec, (tt[len(tt)-1]-tt[0]).Seconds())
		for k := 1; k < len(tt); k++ {
			steps = append(steps, (tt[k] - tt[k-1]).Seconds())
		}
	}
	for _, s := range [][]float64{prep, enc, pre, ttft, dec, steps, paired} {
		slices.Sort(s)
	}
	res.PreprocessS, res.EncodeS, res.PrefillS, res.DecodeS = median(prep), median(enc), median(pre), median(dec)
	res.TTFTS, res.TTFTMinS, res.TTFTMaxS = median(ttft), ttft[0], ttft[len(ttft)-1]

	tcfg := a.Decoder.Config()
	res.VisionGFLOP = float64(vision.FLOPs(a.Model.Config(), []vision.Grid{{T: res.Grid[0], H: res.Grid[1], W: res.Grid[2]}})) / 1e9
	res.PrefillGFLOP = float64(text.FLOPs(tcfg, res.PromptTokens, 0, 1)) / 1e9
	res.EncodeGFLOPS = rate(res.VisionGFLOP, res.EncodeS)
	res.PrefillGFLOPS = rate(res.PrefillGFLOP, res.PrefillS)
	if peak := res.PeakGFLOPS; peak > 0 {
		if a.Decoder.Compute() == text.ComputeBF16 && res.PeakBF16GFLOPS > 0 {
			peak = res.PeakBF16GFLOPS // bf16 products: the ceiling is the VDPBF16PS peak
		}
		res.EncodePctPeak = 100 * res.EncodeGFLOPS / peak
		res.PrefillPctPeak = 100 * res.PrefillGFLOPS / peak
	}
	res.DecodeWeightBytes = decodeWeightBytes(tcfg, a.Decoder.Weights())
	res.DecodeKVBytes = decodeKVBytes(tcfg, res.PromptTokens, f.tokens)
	if len(steps) > 0 {
		res.DecodeStepS = median(steps)
		res.DecodeTokS = rate(1, res.DecodeStepS)
		res.DecodeGBPS = float64(res.DecodeWeightBytes) * res.DecodeTokS / 1e9
		if res.ReadGBPS > 0 {
			res.DecodePctBandwidth = 100 * res.DecodeGBPS / res.ReadGBPS
		}
		if len(paired) > 0 {
			res.DecodePctBandwidthPaired = median(paired)
		}
	}
	res.PeakRSSMiB = peakRSSMiB()
	printGenerateTable(stdout, &res)
	return json.NewEncoder(stdout).Encode(res)
}

// rate is work/seconds, 0 when no time was measured.
func rate(work, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return work / seconds
}

// decodeWeightBytes is what one decode step of a decoder of config c, holding its weights as
// w (f32: 4 bytes a value, bf16: 2), reads of them, each once: every Linear of every layer (q,
// k, v, o, gate, up, down), the RMSNorm weights (float32 always), the output projection (for
// tied embeddings the packed copy of the table that serves as lm_head) and the one embedding
// row of the token fed. It is Config.ResidentBytes less the embedding table, plus that row.
func decodeWeightBytes(c text.Config, w text.Weights) int64 {
	per := int64(4)
	if w == text.WeightsBF16 {
		per = 2
	}
	table := per * int64(c.VocabSize) * int64(c.HiddenSize)
	return c.ResidentBytes(w) - table + per*int64(c.HiddenSize)
}

// decodeKVBytes is the float32 keys and values the attention of a decode step reads, averaged
// over the steps after a prompt of prompt tokens that generate tokens new ones: step k (k = 1 …
// tokens−1, feeding the k-th new id) attends to prompt+k positions, in every layer and kv head.
func decodeKVBytes(c text.Config, prompt, tokens int) int64 {
	if tokens < 2 {
		return 0
	}
	perPos := 2 * 4 * int64(c.NumLayers) * int64(c.NumKVHeads) * int64(c.HeadDim)
	// The mean of prompt+k over k = 1 … tokens−1 is prompt + tokens/2.
	return perPos * int64(2*prompt+tokens) / 2
}

// printGenerateTable prints bench -generate's human-readable summary.
func printGenerateTable(w io.Writer, r *generateResult) {
	fmt.Fprintf(w, "%s, %s weights (vision %s), %s compute, %d threads, %d runs after %d warm-up\n", r.Model, r.Weights, r.VisionWeights, r.Compute, r.Threads, r.Runs, r.Warmup)
	fmt.Fprintf(w, "prompt %d tokens (%d vision: grid %d,%d,%d, %d patches), %d new tokens; load %.1f s\n",
		r.PromptTokens, r.VisionTokens, r.Grid[0], r.Grid[1], r.Grid[2], r.Patches, r.NewTokens, r.LoadS)
	fmt.Fprintf(w, "%-22s %10s %10s %12s %8s\n", "stage", "median s", "GFLOP", "GFLOP/s", "% peak")
	fmt.Fprintf(w, "%-22s %10.3f\n", "preprocess", r.PreprocessS)
	fmt.Fprintf(w, "%-22s %10.3f %10.1f %12.1f %8.1f\n", "vision encode", r.EncodeS, r.VisionGFLOP, r.EncodeGFLOPS, r.EncodePctPeak)
	fmt.Fprintf(w, "%-22s %10.3f %10.1f %12.1f %8.1f\n", "prefill", r.PrefillS, r.PrefillGFLOP, r.PrefillGFLOPS, r.PrefillPctPeak)
	fmt.Fprintf(w, "%-22s %10.3f   (min %.3f, max %.3f)\n", "time to first token", r.TTFTS, r.TTFTMinS, r.TTFTMaxS)
	fmt.Fprintf(w, "decode: %.2f tokens/s (median step %.1f ms; %d tokens in %.2f s), weights %.2f GB/step → %.1f GB/s, %.1f%% of read bandwidth %.1f GB/s; KV %.1f MB/step\n",
		r.DecodeTokS, 1e3*r.DecodeStepS, r.NewTokens, r.DecodeS, float64(r.DecodeWeightBytes)/1e9, r.DecodeGBPS, r.DecodePctBandwidth, r.ReadGBPS, float64(r.DecodeKVBytes)/1e6)
	if len(r.ReadAfterGBPS) > 0 {
		fmt.Fprintf(w, "decode against the read bandwidth measured right after each answer (%s GB/s): %s%%, median %.1f%%\n",
			joinFloats(r.ReadAfterGBPS), joinFloats(r.DecodePctBandwidthRuns), r.DecodePctBandwidthPaired)
	}
	fmt.Fprintf(w, "FMA peak %.1f GFLOP/s", r.PeakGFLOPS)
	if r.PeakBF16GFLOPS > 0 {
		fmt.Fprintf(w, ", bf16 dot-product peak %.1f GFLOP/s (the %% peak of bf16 compute)", r.PeakBF16GFLOPS)
	}
	fmt.Fprintf(w, "; peak RSS %.0f MiB\n", r.PeakRSSMiB)
}

// joinFloats formats v with one decimal, comma-separated.
func joinFloats(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strings.Join(parts, ", ")
}
