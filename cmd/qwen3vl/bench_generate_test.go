package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/text"
)

const (
	testSeedImage = "../../testdata/imageproc/inputs/grad_400x300.png"
	testTokenizer = "../../testdata/tokenizer/qwen3vl"
)

// bench -generate on the tiny full model: the JSON line's fields are there and consistent (the
// prompt is the reference processor's for this image and question, testdata/text/tiny's
// "image" case: 122 ids, 108 of them pads). No timing is checked beyond being positive.
func TestBenchGenerateTiny(t *testing.T) {
	for _, w := range []struct{ flag, want string }{{"auto", "f32"}, {"bf16", "bf16"}} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"bench", "-generate", "-model", "random:tiny@7", "-tokenizer", testTokenizer,
			"-image", testSeedImage, "-runs", "1", "-warmup", "0", "-tokens", "3", "-threads", "2", "-peak-seconds", "0.05", "-weights", w.flag}, &stdout, &stderr)
		if code != 0 {
			t.Fatalf("-weights %s: exit %d: %s", w.flag, code, stderr.String())
		}
		out := strings.TrimSpace(stdout.String())
		last := out[strings.LastIndexByte(out, '\n')+1:]
		var raw map[string]any
		if err := json.Unmarshal([]byte(last), &raw); err != nil {
			t.Fatalf("last line %q: %v", last, err)
		}
		for _, k := range []string{"engine", "mode", "model", "threads", "weights", "vision_weights", "runs", "warmup", "load_s", "image", "grid",
			"patches", "prompt_tokens", "vision_tokens", "new_tokens", "preprocess_s", "encode_s", "prefill_s", "ttft_s", "ttft_min_s", "ttft_max_s",
			"vision_gflop", "encode_gflops", "encode_pct_peak", "prefill_gflop", "prefill_gflops", "prefill_pct_peak", "decode_step_s", "decode_tok_s",
			"decode_s", "decode_weight_bytes", "decode_kv_bytes", "decode_gbps", "decode_pct_bandwidth", "peak_gflops", "read_gbps", "read_after_gbps", "decode_pct_bandwidth_paired", "peak_rss_mib"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("-weights %s: JSON lacks %q: %s", w.flag, k, last)
			}
		}
		var r generateResult
		if err := json.Unmarshal([]byte(last), &r); err != nil {
			t.Fatal(err)
		}
		tcfg, _ := text.Preset("tiny")
		switch {
		case r.Mode != "generate" || r.Model != "random:tiny@7" || r.Threads != 2 || r.Runs != 1 || r.Weights != w.want || r.Image != testSeedImage:
			t.Errorf("-weights %s: settings %+v", w.flag, r)
		case r.Grid != [3]int{1, 18, 24} || r.Patches != 432 || r.PromptTokens != 122 || r.VisionTokens != 108 || r.NewTokens != 3:
			t.Errorf("-weights %s: prompt %+v", w.flag, r)
		case !(r.EncodeS > 0 && r.PrefillS > 0 && r.TTFTS >= r.EncodeS+r.PrefillS && r.TTFTMinS <= r.TTFTS && r.TTFTS <= r.TTFTMaxS):
			t.Errorf("-weights %s: times %+v", w.flag, r)
		case !(r.DecodeStepS > 0 && r.DecodeTokS > 0 && r.DecodeS >= r.DecodeStepS && r.DecodeGBPS > 0 && r.PeakGFLOPS > 0 && r.ReadGBPS > 0 && r.PeakRSSMiB > 0):
			t.Errorf("-weights %s: rates %+v", w.flag, r)
		case r.PrefillGFLOP != float64(text.FLOPs(tcfg, 122, 0, 1))/1e9 || !(r.VisionGFLOP > 0):
			t.Errorf("-weights %s: work %+v", w.flag, r)
		case r.DecodeWeightBytes != decodeWeightBytes(tcfg, textWeights(w.want)):
			t.Errorf("-weights %s: decode bytes %d", w.flag, r.DecodeWeightBytes)
		}
		if !strings.Contains(out, "time to first token") {
			t.Errorf("no table:\n%s", out)
		}
	}
}

func textWeights(s string) text.Weights {
	if s == "bf16" {
		return text.WeightsBF16
	}
	return text.WeightsF32
}

// decodeWeightBytes, counted by hand for the tiny decoder (D 64, 4 heads and 2 kv heads of 128,
// I 128, 4 layers, V 151936, tied): the layers' Linears, every RMSNorm, lm_head, one row.
func TestDecodeWeightBytes(t *testing.T) {
	c, err := text.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	const d, q, kv, i, v, hd, layers = 64, 4 * 128, 2 * 128, 128, 151936, 128, 4
	linears := int64(q*d + 2*kv*d + d*q + 3*i*d)
	norms := int64(4 * (layers*(d+2*hd+d) + d))
	for _, tc := range []struct {
		w   text.Weights
		per int64
	}{{text.WeightsF32, 4}, {text.WeightsBF16, 2}} {
		want := tc.per*(layers*linears+v*d+d) + norms
		if got := decodeWeightBytes(c, tc.w); got != want {
			t.Errorf("%v: %d bytes, want %d", tc.w, got, want)
		}
	}
	// Step k of 1 … 3 after a prompt of 10 attends to 10+k positions: 12 on average.
	if got, want := decodeKVBytes(c, 10, 4), int64(12*2*4*layers*2*hd); got != want {
		t.Errorf("kv bytes %d, want %d", got, want)
	}
	if got := decodeKVBytes(c, 10, 1); got != 0 {
		t.Errorf("kv bytes of no step: %d", got)
	}
}

func TestBenchGenerateFlags(t *testing.T) {
	gen := []string{"bench", "-generate", "-model", "random:tiny", "-tokenizer", testTokenizer, "-image", testSeedImage, "-peak-seconds", "0"}
	missing := t.TempDir() + "/none.png"
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench", "-image", testSeedImage}, 2, "-image is a flag of bench -generate"},
		{[]string{"bench", "-tokens", "3"}, 2, "-tokens is a flag of bench -generate"},
		{[]string{"bench", "-prompt", "Hi"}, 2, "-prompt"},
		{[]string{"bench", "-tokenizer", testTokenizer}, 2, "-tokenizer"},
		{append(gen, "-grid", "1,4,6"), 2, "-grid is not a flag of bench -generate"},
		{append(gen, "-peak"), 2, "exclude each other"},
		{append(gen, "-tokens", "0"), 2, "-tokens 0"},
		{append(gen, "-runs", "0"), 2, "-runs"},
		{append(gen, "-peak-seconds", "-1"), 2, "-peak-seconds"},
		{append(gen, "-weights", "fp8"), 2, "-weights"},
		{append(gen, "-image", ""), 2, "-image is empty"},
		{append(gen, "-image", missing), 1, "none.png"},
		{append(gen, "-model", "random:nosuch"), 2, "nosuch"},
		{append(gen, "-prompt", "<image> and <image>"), 1, "mark"},
	} {
		code, stderr := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit %d mentioning %q", tc.args[1:], code, stderr, tc.code, tc.want)
		}
	}
	// The default image is relative to the repository's root; elsewhere the error says so.
	if _, err := os.Stat(repoSeedImage); err == nil {
		t.Skip("run from the repository's root")
	}
	code, stderr := runCmd(t, "bench", "-generate", "-model", "random:tiny", "-tokenizer", testTokenizer, "-peak-seconds", "0")
	if code != 1 || !strings.Contains(stderr, "repository's root") {
		t.Errorf("default image outside the repository: exit %d, %q", code, stderr)
	}
}
