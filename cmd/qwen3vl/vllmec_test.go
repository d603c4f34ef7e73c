package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/mmhash"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// TestEncodeVLLMEC: -format vllm-ec writes one entry per image under its vLLM hash, each the
// image's rows of the vllm output; a second run leaves them alone; the kwargs' pixel bounds
// set the preprocessing and enter the hash.
func TestEncodeVLLMEC(t *testing.T) {
	dir := t.TempDir()
	inputs := []string{"../../testdata/imageproc/inputs/grad_400x300.png", "../../testdata/imageproc/inputs/jgray_203x157.jpg"}
	const model, kw = "Qwen/Qwen3-VL-2B-Instruct", `{"max_pixels": 100352}`
	root := filepath.Join(dir, "ec")
	args := append([]string{"encode", "-model", "random:tiny", "-format", "vllm-ec", "-vllm-model", model, "-vllm-mm-kwargs", kw, "-o", root}, inputs...)
	if code, stderr := runCmd(t, args...); code != 0 || !strings.Contains(stderr, "2 encoder-cache entries written, 0 already there") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, stderr := runCmd(t, args...); code != 0 || !strings.Contains(stderr, "0 encoder-cache entries written, 2 already there") {
		t.Errorf("second run: exit %d: %s", code, stderr)
	}
	ref := filepath.Join(dir, "ref.vllm")
	if code, stderr := runCmd(t, append([]string{"encode", "-q", "-model", "random:tiny", "-format", "vllm", "-max-pixels", "100352", "-o", ref}, inputs...)...); code != 0 {
		t.Fatalf("vllm: exit %d: %s", code, stderr)
	}
	rf, err := safetensors.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	all, _ := rf.Float32(pipeline.VLLMEmbedsName)
	info, _ := rf.Info(pipeline.VLLMEmbedsName)
	width := int(info.Shape[1])
	parsed, _ := mmhash.ParseObject([]byte(kw))
	key := mmhash.Key{Algorithm: mmhash.Blake3, ModelID: model, MMProcessorKwargs: parsed}
	row := 0
	for _, in := range inputs {
		data, _ := os.ReadFile(in)
		h, err := pipeline.VLLMImageHash(key, in, data)
		if err != nil {
			t.Fatal(err)
		}
		f, err := safetensors.Open(filepath.Join(root, h, pipeline.VLLMECFile))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got, _ := f.Float32(pipeline.VLLMECTensor)
		gi, _ := f.Info(pipeline.VLLMECTensor)
		f.Close()
		if gi.DType != safetensors.F32 || int(gi.Shape[1]) != width {
			t.Fatalf("%s: %s %v, want F32 [n, %d]", in, gi.DType, gi.Shape, width)
		}
		for i, v := range got {
			if v != all[row*width+i] {
				t.Fatalf("%s: value %d differs from the vllm output's", in, i)
			}
		}
		row += int(gi.Shape[0])
	}
	if row*width != len(all) {
		t.Errorf("entries hold %d rows, the vllm output %d", row, len(all)/width)
	}
}

// TestEncodeVLLMECParts: -vllm-ec-parts - prints one metadata-only part per image, its uuid
// the image's hash; with hash factors each entry is also written under the identifier vLLM
// derives from that uuid.
func TestEncodeVLLMECParts(t *testing.T) {
	root := filepath.Join(t.TempDir(), "ec")
	in := "../../testdata/imageproc/inputs/tiny_31x17.png"
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"encode", "-model", "random:tiny", "-format", "vllm-ec", "-vllm-model", "m", "-vllm-mm-kwargs", `{"min_pixels": 1024}`, "-vllm-ec-parts", "-", "-o", root, in}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "2 encoder-cache entries written") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	kw, _ := mmhash.ParseObject([]byte(`{"min_pixels": 1024}`))
	key := mmhash.Key{Algorithm: mmhash.Blake3, ModelID: "m", MMProcessorKwargs: kw}
	data, _ := os.ReadFile(in)
	h, _ := pipeline.VLLMImageHash(key, in, data)
	id, _ := key.UUID(h)
	if want := `{"type":"image_embeds","image_embeds":{"image_grid_thw":[1,2,2]},"uuid":"` + h + `"}`; stdout.String() != "[\n"+want+"\n]\n" {
		t.Errorf("stdout %q, want the part %s", stdout.String(), want)
	}
	for _, name := range []string{h, id} {
		if _, err := os.Stat(filepath.Join(root, name, pipeline.VLLMECFile)); err != nil {
			t.Error(err)
		}
	}
}

func TestEncodeVLLMECErrors(t *testing.T) {
	dir := t.TempDir()
	img := "../../testdata/imageproc/inputs/tiny_7x5.png"
	base := []string{"encode", "-model", "random:tiny", "-format", "vllm-ec", "-o", filepath.Join(dir, "ec")}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{append(base, img), 2, "needs -vllm-model"},
		{append(base, "-vllm-model", "m", "-vllm-hash", "md5", img), 2, "-vllm-hash"},
		{append(base, "-vllm-model", "m", "-vllm-mm-kwargs", "[1]", img), 2, "not a JSON object"},
		{append(base, "-vllm-model", "m", "-vllm-mm-kwargs", `{"do_resize": false}`, img), 2, "do_resize"},
		{append(base, "-vllm-model", "m", "-vllm-mm-kwargs", `{"max_pixels": 100352}`, "-max-pixels", "200704", img), 2, "differs from the max_pixels 100352"},
		{append(base, "-vllm-model", "m", "-video", "../../testdata/video/inputs/four_frames", img), 2, "videos are not supported"},
		{append(base, "-vllm-model", "m", "-pixels", "x.safetensors"), 2, "not -pixels"},
		{[]string{"encode", "-model", "random:tiny", "-vllm-model", "m", "-o", filepath.Join(dir, "o.safetensors"), img}, 2, "are for -format vllm-ec"},
		{[]string{"encode", "-model", "random:tiny", "-format", "vllm-ec", "-vllm-model", "m", "-o", file, img}, 2, "is not a folder"},
		{append(base, "-vllm-model", "m", "../../testdata/imageproc/inputs/rgba_120x80.png"), 1, "rgba_120x80.png has transparent pixels"},
		{append(base, "-vllm-model", "m", "../../testdata/imageproc/inputs/gray16_70x50.png"), 1, "gray16_70x50.png is I;16-mode png"},
		{append(base, "-vllm-model", "m", "-keep-going", "../../testdata/imageproc/inputs/rgba_120x80.png", img), 1, "1 of 2 inputs skipped"},
	} {
		code, stderr := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d: %s\nwant exit %d and %q", tc.args[6:], code, stderr, tc.code, tc.want)
		}
	}
	// With -keep-going the other image's entry is written.
	if m, _ := filepath.Glob(filepath.Join(dir, "ec", "*", pipeline.VLLMECFile)); len(m) != 1 {
		t.Errorf("%d entries after -keep-going, want 1", len(m))
	}
}
