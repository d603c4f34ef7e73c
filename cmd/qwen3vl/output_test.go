package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// TestEncodeFormats encodes two images in every format and checks each against the
// safetensors output of the same run.
func TestEncodeFormats(t *testing.T) {
	dir := t.TempDir()
	inputs := []string{"../../testdata/imageproc/inputs/grad_400x300.png", "../../testdata/imageproc/inputs/tiny_7x5.png"}
	outs := map[string]string{}
	for _, f := range outputFormats {
		outs[f] = filepath.Join(dir, "out."+f)
		args := []string{"encode", "-model", "random:tiny", "-format", f, "-features", "-o", outs[f]}
		if f == "vllm-ec" {
			args = append(args, "-vllm-model", "Qwen/Qwen3-VL-2B-Instruct")
		}
		args = append(args, inputs...)
		if code, stderr := runCmd(t, args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", f, code, stderr)
		}
	}
	ref, err := safetensors.Open(outs["safetensors"])
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	pooler, _ := ref.Float32("pooler_output")
	ds1, _ := ref.Float32("deepstack_features.1")
	const o = 96 // tiny's out_hidden_size
	tokens := len(pooler) / o

	// vllm: [tokens, 3·O] rows [pooler | ds0 | ds1].
	v, err := safetensors.Open(outs["vllm"])
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	emb, err := v.Float32("image_embeds")
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := v.Info("image_embeds"); info.Shape[0] != tokens || info.Shape[1] != 3*o {
		t.Fatalf("image_embeds shape %v, want [%d %d]", info.Shape, tokens, 3*o)
	}
	for r := 0; r < tokens; r++ {
		for c := 0; c < o; c++ {
			if emb[r*3*o+c] != pooler[r*o+c] || emb[r*3*o+2*o+c] != ds1[r*o+c] {
				t.Fatalf("image_embeds row %d col %d does not hold [pooler | ds0 | ds1]", r, c)
			}
		}
	}
	if g, err := v.Int64("image_grid_thw"); err != nil || len(g) != 6 || g[1] != 18 || g[2] != 24 {
		t.Errorf("image_grid_thw %v, %v", g, err)
	}

	// vllm-json: a JSON array, one image_embeds part per line, each the item's rows of the
	// vllm output's image_embeds as base64 .npy, with the item's grid.
	data, err := os.ReadFile(outs["vllm-json"])
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n"); len(lines) != 4 || lines[0] != "[" || lines[3] != "]" {
		t.Fatalf("vllm-json: %d lines, want [, two parts, ]", len(lines))
	}
	var parts []struct {
		Type   string `json:"type"`
		Embeds struct {
			Data string `json:"image_embeds"`
			Grid [3]int `json:"image_grid_thw"`
		} `json:"image_embeds"`
	}
	if err := json.Unmarshal(data, &parts); err != nil || len(parts) != 2 {
		t.Fatalf("vllm-json: %d parts, %v", len(parts), err)
	}
	embRaw, _ := v.Bytes("image_embeds")
	grids, _ := v.Int64("image_grid_thw")
	row := 0
	for i, p := range parts {
		b, err := base64.StdEncoding.DecodeString(p.Embeds.Data)
		if err != nil || p.Type != "image_embeds" {
			t.Fatalf("part %d: type %q, %v", i, p.Type, err)
		}
		n := p.Embeds.Grid[0] * p.Embeds.Grid[1] * p.Embeds.Grid[2] / 4
		hl := int(binary.LittleEndian.Uint16(b[8:]))
		if !strings.Contains(string(b[10:10+hl]), fmt.Sprintf("'shape': (%d, %d)", n, 3*o)) {
			t.Errorf("part %d: header %q, want %d rows of %d", i, b[10:10+hl], n, 3*o)
		}
		if !bytes.Equal(b[10+hl:], embRaw[row*3*o*4:(row+n)*3*o*4]) {
			t.Errorf("part %d: data differs from rows %d… of the vllm output", i, row)
		}
		if g := grids[3*i : 3*i+3]; p.Embeds.Grid != [3]int{int(g[0]), int(g[1]), int(g[2])} {
			t.Errorf("part %d: grid %v, want %v", i, p.Embeds.Grid, g)
		}
		row += n
	}
	if row != tokens {
		t.Errorf("parts cover %d tokens, want %d", row, tokens)
	}

	// npy: the same bytes as the safetensors tensors, behind a valid header.
	for _, info := range ref.Header().Tensors {
		data, err := os.ReadFile(filepath.Join(outs["npy"], info.Name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		if string(data[:8]) != "\x93NUMPY\x01\x00" {
			t.Fatalf("%s.npy: bad magic", info.Name)
		}
		hl := int(binary.LittleEndian.Uint16(data[8:]))
		if (10+hl)%64 != 0 || !strings.Contains(string(data[10:10+hl]), "'fortran_order': False") {
			t.Errorf("%s.npy: header %q", info.Name, data[10:10+hl])
		}
		raw, _ := ref.Bytes(info.Name)
		if string(data[10+hl:]) != string(raw) {
			t.Errorf("%s.npy: data differs from the safetensors output", info.Name)
		}
	}

	// jsonl: one line per item, features matching.
	f, err := os.Open(outs["jsonl"])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	var items []jsonItem
	for sc.Scan() {
		var it jsonItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	if len(items) != 2 || items[0].Tokens != 108 || items[0].File != inputs[0] || items[1].Grid != [3]int{1, 14, 20} {
		t.Fatalf("jsonl items %+v", items)
	}
	if got := items[1].Pooler[0][5]; got != pooler[108*o+5] {
		t.Errorf("jsonl item 1 pooler[0][5] = %v, want %v", got, pooler[108*o+5])
	}

	// A new npy folder named with a trailing slash is made as without it.
	slash := outs["npy"] + "-slash" + string(filepath.Separator)
	if code, stderr := runCmd(t, append([]string{"encode", "-q", "-model", "random:tiny", "-format", "npy", "-o", slash}, inputs...)...); code != 0 {
		t.Errorf("npy into %s: exit %d: %s", slash, code, stderr)
	} else if _, err := os.Stat(filepath.Join(slash, "pooler_output.npy")); err != nil {
		t.Error(err)
	}

	// npy refuses to overwrite; bad format and stdout rules are usage errors.
	if code, _ := runCmd(t, append([]string{"encode", "-model", "random:tiny", "-format", "npy", "-o", outs["npy"]}, inputs...)...); code != 2 {
		t.Errorf("npy over an existing folder: exit %d", code)
	}
	if code, _ := runCmd(t, "encode", "-model", "random:tiny", "-format", "csv", "-o", "x", inputs[0]); code != 2 {
		t.Errorf("unknown format: exit %d", code)
	}
	if code, _ := runCmd(t, "encode", "-model", "random:tiny", "-o", "-", inputs[0]); code != 2 {
		t.Errorf("safetensors to stdout: exit %d", code)
	}
	if code, stderr := runCmd(t, "encode", "-model", "random:tiny", "-format", "vllm-json", "-o", "-", "-video", "../../testdata/video/inputs/four_frames", inputs[0]); code != 2 || !strings.Contains(stderr, "videos are not supported") {
		t.Errorf("vllm-json with a video: exit %d: %s", code, stderr)
	}
}

// TestEncodeVideo encodes an image and a folder of frames; the video item carries its grid and
// per-group timestamps, and preprocess → encode -pixels gives the same features.
func TestEncodeVideo(t *testing.T) {
	dir := t.TempDir()
	const frames = "../../testdata/video/inputs/four_frames"
	const img = "../../testdata/imageproc/inputs/tiny_7x5.png"
	out := filepath.Join(dir, "out.safetensors")
	if code, stderr := runCmd(t, "encode", "-model", "random:tiny", "-o", out, "-video", frames, "-frames-fps", "2", img); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := safetensors.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, _ := f.Int64("grid_thw")
	if len(g) != 6 || g[0] != 1 || g[3] != 2 {
		t.Fatalf("grid_thw %v: want the image (t=1) then the video (t=2)", g)
	}
	ts, err := f.Bytes("timestamps.1")
	if err != nil || len(ts) != 16 {
		t.Fatalf("timestamps.1: %d bytes, %v", len(ts), err)
	}
	if _, ok := f.Info("timestamps.0"); ok {
		t.Error("an image item has timestamps")
	}
	pp := filepath.Join(dir, "pp.safetensors")
	if code, stderr := runCmd(t, "preprocess", "-o", pp, "-video", frames, "-frames-fps", "2", img); code != 0 {
		t.Fatalf("preprocess: exit %d: %s", code, stderr)
	}
	out2 := filepath.Join(dir, "out2.safetensors")
	if code, stderr := runCmd(t, "encode", "-model", "random:tiny", "-o", out2, "-pixels", pp); code != 0 {
		t.Fatalf("encode -pixels: exit %d: %s", code, stderr)
	}
	f2, err := safetensors.Open(out2)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	a, _ := f.Float32("pooler_output")
	b, _ := f2.Float32("pooler_output")
	if len(a) != len(b) {
		t.Fatalf("%d vs %d values", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("pooler_output[%d]: files %v, pixels %v", i, a[i], b[i])
		}
	}
}

// TestEncodeBatching: encoding inputs together (-batch-patches) writes the same bytes as one
// input per call, for budgets that put none, some or all of the inputs in one call (432, 280,
// 280 and 308 patches: with 600, the 432 and the 308 run alone, the two 280s together).
func TestEncodeBatching(t *testing.T) {
	in := "../../testdata/imageproc/inputs/"
	inputs := []string{in + "grad_400x300.png", in + "tiny_7x5.png", in + "bmp_75x50.bmp", in + "gray1_33x21.png"}
	dir := t.TempDir()
	var outs [][]byte
	for _, budget := range []string{"1", "600", "100000"} {
		out := filepath.Join(dir, "out"+budget+".safetensors")
		args := append([]string{"encode", "-model", "random:tiny", "-threads", "2", "-batch-patches", budget, "-o", out}, inputs...)
		if code, stderr := runCmd(t, args...); code != 0 {
			t.Fatalf("-batch-patches %s: exit %d: %s", budget, code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
	}
	for i := 1; i < len(outs); i++ {
		if !bytes.Equal(outs[i], outs[0]) {
			t.Errorf("output %d differs from one input per call", i)
		}
	}
	if code, _ := runCmd(t, "encode", "-model", "random:tiny", "-batch-patches", "0", "-o", filepath.Join(dir, "x.safetensors"), inputs[0]); code != 2 {
		t.Errorf("-batch-patches 0: exit %d, want 2", code)
	}
}

// TestProgressLine: the progress line counts items, shows the running call's blocks once the
// call has run for over a second, and ends with a newline only if something was printed.
func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, 2, true)
	p.blocks(1, 24) // the call starts: nothing yet
	if buf.Len() != 0 {
		t.Fatalf("printed %q at the first block", buf.String())
	}
	p.call = p.call.Add(-2 * time.Second)
	p.blocks(12, 24)
	if !strings.Contains(buf.String(), "0/2 items") || !strings.Contains(buf.String(), "block 12/24") {
		t.Errorf("long call: %q", buf.String())
	}
	p.step()
	if s := buf.String(); !strings.Contains(s, "1/2 items") || strings.Contains(s[strings.LastIndex(s, "\r"):], "block") {
		t.Errorf("after a step: %q", s)
	}
	p.done()
	if !strings.HasSuffix(buf.String(), "\n") {
		t.Errorf("done did not end the line: %q", buf.String())
	}
	var quiet bytes.Buffer
	q := newProgress(&quiet, 2, false)
	q.blocks(1, 24)
	q.call = q.call.Add(-2 * time.Second)
	q.blocks(2, 24)
	q.step()
	q.done()
	if quiet.Len() != 0 {
		t.Errorf("disabled progress printed %q", quiet.String())
	}
}
