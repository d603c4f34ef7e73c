package picture

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

// update rewrites the golden pictures: go test ./picture -run Golden -update
var update = flag.Bool("update", false, "rewrite testdata/picture/*.png from this build's output")

const goldenDir = "../testdata/picture"

// scene is the generated test image, width×height: a diagonal colour ramp with a dark disc and
// a light bar, integers only.
func scene(width, height int) *imageproc.RGB {
	img := imageproc.NewRGB(width, height)
	cx, cy, r := width/3, height/2, height/3
	for y := range height {
		for x := range width {
			i := 3 * (y*width + x)
			red, green, blue := uint8(40+180*x/width), uint8(60+150*y/height), uint8(200-120*(x+y)/(width+height))
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r {
				red, green, blue = 30, 30, 70
			}
			if x > width*3/5 && x < width*4/5 && y > height/5 {
				red, green, blue = 235, 225, 200
			}
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = red, green, blue
		}
	}
	return img
}

// goldenInputs opens random:tiny with a 8192-pixel minimum (so the 150×90 scene resizes to
// 160×96, 10×6 patches, 15 tokens), preprocesses the scene and encodes it.
func goldenInputs(t *testing.T) (*pipeline.Pipeline, *imageproc.RGB, *pipeline.Explanation, pipeline.Features) {
	t.Helper()
	ctx := context.Background()
	p, err := pipeline.Open(ctx, "random:tiny", pipeline.Options{Preprocess: pipeline.Overrides{MinPixels: 8192}})
	if err != nil {
		t.Fatal(err)
	}
	src := scene(150, 90)
	resized, err := imageproc.Resized(src, p.Checkpoint.Image)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := imageproc.Preprocess(src, p.Checkpoint.Image)
	if err != nil {
		t.Fatal(err)
	}
	e, err := pipeline.Explain(p.Config, "random:tiny", p.Checkpoint.Image, "the generated 150×90 scene", src.Width, src.Height)
	if err != nil {
		t.Fatal(err)
	}
	var b pipeline.Batch
	b.Add(pipeline.ImageItem("scene", pre))
	res, err := p.Encode(ctx, &b)
	if err != nil {
		t.Fatal(err)
	}
	return p, resized, e, res.Items(0, 1)
}

// goldenAttention asks random:tiny (the full tiny model, seed 1, greedy, 4 new tokens, no
// end-of-sequence id) to describe the scene (min_pixels 8192: 15 tokens), recording the last
// layer's attention, and returns the panels and options of its attention picture.
func goldenAttention(t *testing.T) ([]AttentionPanel, AttentionOptions) {
	t.Helper()
	ctx := context.Background()
	spec, err := pipeline.ParseSpec("random:tiny")
	if err != nil {
		t.Fatal(err)
	}
	a, err := pipeline.OpenAssistant(ctx, spec, pipeline.AssistantOptions{
		Options:   pipeline.Options{Preprocess: pipeline.Overrides{MinPixels: 8192}},
		Tokenizer: "../testdata/tokenizer/qwen3vl",
	})
	if err != nil {
		t.Fatal(err)
	}
	pre, err := imageproc.Preprocess(scene(150, 90), a.Checkpoint.Image)
	if err != nil {
		t.Fatal(err)
	}
	items := []pipeline.Item{pipeline.ImageItem("scene", pre)}
	conv, err := chat.ParseConversation([]byte(`[{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where is the disc?"}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	gen := a.Generation
	gen.MaxNewTokens, gen.EOS, gen.StopStrings, gen.DoSample = 4, nil, nil, false
	var rec pipeline.AttentionRecord
	ans, err := a.Ask(pipeline.WithAttention(ctx, &rec), conv, items, gen, func(string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	panels, err := AnswerPanels(&rec, items, nil, a.Checkpoint.Image)
	if err != nil {
		t.Fatal(err)
	}
	if g := panels[0].Grid; g != (vision.Grid{T: 1, H: 6, W: 10}) {
		t.Fatalf("the scene's grid is %v, want 1×6×10", g)
	}
	return panels, AttentionOptions{
		MapOptions: MapOptions{PatchSize: a.Config.PatchSize, MergeSize: a.Config.SpatialMergeSize},
		Title:      "random:tiny: attention of the last decoder layer to the scene's tokens, averaged over the heads and the 4 answer tokens",
		Answer:     ans.Text,
	}
}

// TestGolden draws the explain, feature and attention pictures of the generated scene with
// random:tiny twice, checks the two are the same bytes, and compares them with the committed goldens
// (pictures of our own output, kept to catch unintended changes in the drawing; see
// testdata/picture/README.md).
func TestGolden(t *testing.T) {
	p, resized, e, f := goldenInputs(t)
	if resized.Width != 160 || resized.Height != 96 {
		t.Fatalf("the scene resizes to %dx%d, want 160x96", resized.Width, resized.Height)
	}
	mo := MapOptions{PatchSize: p.Config.PatchSize, MergeSize: p.Config.SpatialMergeSize, DeepstackBlocks: p.Config.DeepstackVisualIndexes}
	panels, ao := goldenAttention(t)
	for _, g := range []struct {
		file string
		draw func(*bytes.Buffer) error
	}{
		{"explain-tiny.png", func(b *bytes.Buffer) error { return Explain(b, resized, e) }},
		{"features-tiny.png", func(b *bytes.Buffer) error { return Features(b, resized, f, mo) }},
		{"attention-tiny.png", func(b *bytes.Buffer) error { return Attention(b, panels, ao) }},
	} {
		var first, second bytes.Buffer
		if err := g.draw(&first); err != nil {
			t.Fatalf("%s: %v", g.file, err)
		}
		if err := g.draw(&second); err != nil {
			t.Fatalf("%s: %v", g.file, err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Errorf("%s: two drawings of the same input differ", g.file)
		}
		path := filepath.Join(goldenDir, g.file)
		if *update {
			if err := os.WriteFile(path, first.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (make it with: go test ./picture -run Golden -update)", err)
		}
		if !bytes.Equal(first.Bytes(), want) {
			got := filepath.Join(t.TempDir(), g.file)
			os.WriteFile(got, first.Bytes(), 0o644)
			t.Errorf("%s differs from the golden; this build drew %s", g.file, got)
		}
	}
}
