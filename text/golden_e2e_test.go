package text

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/textjoin"
	"github.com/qwen3vl/qwen3vl/vision"
)

// e2eCase is what TestGoldenEndToEnd reads of a case beyond goldenCase.
type e2eCase struct {
	Images      []string `json:"images"`
	PixelsSHA   *string  `json:"pixel_values_sha256"`
	VideoPixSHA *string  `json:"pixel_values_videos_sha256"`
	Video       *struct {
		Folder string  `json:"frames_folder"`
		FPS    float64 `json:"fps_used"`
	} `json:"video"`
}

func sha256F32(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestGoldenEndToEnd runs every stage in Go from the case's image and video files: the
// checkpoint's preprocessing (imageproc, as pipeline.Checkpoint.Prepare runs it; the pixel hash must be the
// reference's), the vision tower with the same synthetic weights (vision.Random, seed and
// vision_config of config.json), textjoin.Scatter of its features into Embed(input_ids), the
// reference's MRoPE ids recomputed by textjoin.RopeIndex, then the decoder: the logits at every
// prompt row and 32 decode steps against the reference, the argmax, and 64 greedy tokens.
func TestGoldenEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the vision tower on every case")
	}
	for _, family := range goldenFamilies {
		t.Run(family, func(t *testing.T) { goldenEndToEnd(t, family) })
	}
}

func goldenEndToEnd(t *testing.T, family string) {
	dir := goldenDir(family)
	cfg, g := readGoldens(t, family)
	ctx := context.Background()
	m, err := Random(cfg, g.WeightsSeed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	vcfg, err := vision.ReadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	tower, err := vision.Random(vcfg, g.WeightsSeed, vision.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The checkpoint's preprocessing, as pipeline.Checkpoint.Prepare runs it (this package
	// cannot import pipeline, which imports it).
	imageOpts, err := imageproc.ReadPreprocessorConfig(filepath.Join(dir, "preprocessor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	videoOpts, _, err := imageproc.ReadVideoPreprocessorConfigDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := textjoin.LoadTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "cases.json"))
	var extra struct {
		Cases []e2eCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &extra); err != nil {
		t.Fatal(err)
	}
	for ci, c := range g.Cases {
		x := extra.Cases[ci]
		t.Run(c.Name, func(t *testing.T) {
			f, err := safetensors.Open(filepath.Join(dir, c.File))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			gt := goldenTensors{t, f}
			n, ids := c.PromptLength, c.InputIDs

			// Pixels and features, per kind.
			type input struct {
				path  string
				video bool
			}
			encode := func(inputs []input, wantSHA *string, wantGrids [][3]int) (*textjoin.Features, []textjoin.Grid) {
				if len(inputs) == 0 {
					return nil, nil
				}
				var pixels []float32
				var grids []vision.Grid
				var jgrids []textjoin.Grid
				for _, in := range inputs {
					var px []float32
					var g imageproc.Grid
					if in.video {
						v, err := imageproc.PreprocessVideoFile(ctx, in.path, videoOpts)
						if err != nil {
							t.Fatal(err)
						}
						px, g = v.Pixels, v.Grid
					} else {
						img, err := imageproc.PreprocessFile(ctx, in.path, imageOpts)
						if err != nil {
							t.Fatal(err)
						}
						px, g = img.Pixels, img.Grid
					}
					pixels = append(pixels, px...)
					grids = append(grids, vision.Grid(g))
					jgrids = append(jgrids, textjoin.Grid(g))
				}
				for i, g := range grids {
					if w := wantGrids[i]; g.T != w[0] || g.H != w[1] || g.W != w[2] {
						t.Fatalf("grid %d: %v, the reference's %v", i, g, w)
					}
				}
				if wantSHA == nil || sha256F32(pixels) != *wantSHA {
					t.Fatalf("pixel values differ from the reference's (sha256)")
				}
				out, err := tower.Encode(ctx, pixels, grids)
				if err != nil {
					t.Fatal(err)
				}
				feat := &textjoin.Features{Pooler: Matrix(out.Pooler)}
				for _, ds := range out.Deepstack {
					feat.Deepstack = append(feat.Deepstack, Matrix(ds))
				}
				return feat, jgrids
			}
			var imageIn, videoIn []input
			for _, p := range x.Images {
				imageIn = append(imageIn, input{path: filepath.Join("..", p)})
			}
			if x.Video != nil {
				videoOpts.FramesFPS = x.Video.FPS
				videoIn = append(videoIn, input{path: filepath.Join("..", x.Video.Folder), video: true})
			}
			images, imageGrids := encode(imageIn, x.PixelsSHA, c.ImageGrids)
			videos, videoGrids := encode(videoIn, x.VideoPixSHA, c.VideoGrids)

			embeds, err := m.Embed(ids)
			if err != nil {
				t.Fatal(err)
			}
			place, err := textjoin.Scatter(embeds, ids, images, videos, tok)
			if err != nil {
				t.Fatal(err)
			}
			if gt.has("inputs_embeds") {
				t.Logf("inputs_embeds: max abs error %.3g", maxAbsDiff(embeds.Data, gt.f32("inputs_embeds")))
			} else if place.Visual != nil {
				var vis []float32
				for i, v := range place.Visual {
					if v {
						vis = append(vis, embeds.Row(i)...)
					}
				}
				t.Logf("visual rows of inputs_embeds: max abs error %.3g", maxAbsDiff(vis, gt.f32("inputs_embeds.visual")))
			}
			for k, ds := range place.Deepstack {
				t.Logf("deepstack %d: max abs error %.3g", k, maxAbsDiff(ds.Data, gt.f32("deepstack."+strconv.Itoa(k))))
			}
			pos, delta, err := textjoin.RopeIndex(ids, nil, imageGrids, videoGrids, tok)
			if err != nil {
				t.Fatal(err)
			}
			p := gt.ints("position_ids")
			for a := 0; a < 3; a++ {
				for i := 0; i < n; i++ {
					if pos[a][i] != p[a*n+i] {
						t.Fatalf("position row %d, token %d: %d, the reference's %d", a, i, pos[a][i], p[a*n+i])
					}
				}
			}
			if delta != c.RopeDeltas {
				t.Fatalf("rope delta %d, the reference's %d", delta, c.RopeDeltas)
			}

			cache, _ := m.NewCache(n + len(c.GeneratedIDs))
			in := Input{IDs: ids, Embeds: &embeds, Positions: pos, Visual: place.Visual, Deepstack: place.Deepstack, AllLogits: true}
			logits, err := m.Prefill(ctx, cache, in)
			if err != nil {
				t.Fatal(err)
			}
			rows := make([][]float32, 0, n+c.DecodeSteps)
			for i := 0; i < n; i++ {
				rows = append(rows, logits.Row(i))
			}
			for k := 0; k < c.DecodeSteps; k++ {
				row, err := m.Decode(ctx, cache, c.GeneratedIDs[k], textjoin.DecodePosition(n+k, delta))
				if err != nil {
					t.Fatal(err)
				}
				rows = append(rows, row)
			}
			compareLogits(t, gt, rows, n, c.DecodeSteps)

			greedy(t, m, cache, rows, n, delta, c.GeneratedIDs)
		})
	}
}
