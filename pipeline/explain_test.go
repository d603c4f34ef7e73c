package pipeline

import (
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/vision"
)

// TestExplain: the numbers of an Explanation for the 4B tower and a 400×300 image (the seed
// shapes), its table's shape, and the refusals of SmartResize worded by pipeline.
func TestExplain(t *testing.T) {
	cfg, err := vision.Preset("qwen3-vl-4b")
	if err != nil {
		t.Fatal(err)
	}
	e, err := Explain(cfg, "preset qwen3-vl-4b", imageproc.DefaultOptions(), "an image of 400×300", 400, 300)
	if err != nil {
		t.Fatal(err)
	}
	if e.ResizedWidth != 384 || e.ResizedHeight != 288 || e.Grid != (vision.Grid{T: 1, H: 18, W: 24}) || e.Patches != 432 || e.Tokens != 108 {
		t.Errorf("resized %dx%d, grid %v, %d patches, %d tokens", e.ResizedWidth, e.ResizedHeight, e.Grid, e.Patches, e.Tokens)
	}
	if want := vision.FLOPs(cfg, []vision.Grid{e.Grid}); e.FLOPs != want {
		t.Errorf("FLOPs %d, want vision.FLOPs %d", e.FLOPs, want)
	}
	// patch_embed, pos_embed, the blocks in one row, the merger, three DeepStack mergers.
	if len(e.Modules) != 7 || len(e.Table()) != 8 {
		t.Errorf("%d modules, %d table rows", len(e.Modules), len(e.Table()))
	}
	var b strings.Builder
	if err := e.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range append(e.Intro(), e.Outro()...) {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the text lacks %q", want)
		}
	}
	if _, err := Explain(cfg, "x", imageproc.DefaultOptions(), "x", 300, 1); err == nil || !strings.HasPrefix(err.Error(), "pipeline: ") || !strings.Contains(err.Error(), "aspect ratio") {
		t.Errorf("300×1: %v", err)
	}
}
