package textjoin

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// The goldens under testdata/textjoin were made by tools/reference/textjoin_goldens.py with the
// pinned Hugging Face transformers (see testdata/textjoin/README.md); never by this package.
const goldenDir = "../testdata/textjoin"

// goldenDirs are the golden sets: Qwen3-VL's, and Qwen3.5's (textjoin_goldens.py --family
// qwen3.5: the same processor and cases with Qwen3.5's token ids, and no DeepStack).
var goldenDirs = []string{goldenDir, filepath.Join(goldenDir, "qwen3.5")}

// forEachGolden runs fn on each golden set, as a subtest named by its folder.
func forEachGolden(t *testing.T, fn func(t *testing.T, dir string)) {
	t.Helper()
	for _, dir := range goldenDirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { fn(t, dir) })
	}
}

// The chat template's forms of one image and one video, which the golden prompts use.
const (
	chatImage = "<|vision_start|><|image_pad|><|vision_end|>"
	chatVideo = "<|vision_start|><|video_pad|><|vision_end|>"
)

type goldenCase struct {
	Name          string   `json:"name"`
	Prompts       []string `json:"prompts"`
	VideoMetadata []struct {
		TotalNumFrames int      `json:"total_num_frames"`
		FPS            float64  `json:"fps"`
		FPSGiven       *float64 `json:"fps_given"`
		FramesIndices  []int    `json:"frames_indices"`
	} `json:"video_metadata"`
	VideoTimestamps [][]float64 `json:"video_timestamps"`
	Expanded        []string    `json:"expanded"`
	RawInputIDs     [][]int32   `json:"raw_input_ids"`
	InputIDs        [][]int32   `json:"input_ids"`
	AttentionMask   [][]int     `json:"attention_mask"`
	MMTokenTypeIDs  [][]int     `json:"mm_token_type_ids"`
	ImageGridTHW    [][3]int    `json:"image_grid_thw"`
	VideoGridTHW    [][3]int    `json:"video_grid_thw"`
	Offsets         [][]struct {
		Type    string `json:"type"`
		Span    [2]int `json:"span"`
		NewSpan [2]int `json:"new_span"`
	} `json:"replacement_offsets"`
	PositionIDs [3][][]int `json:"position_ids"`
	RopeDeltas  []int      `json:"rope_deltas"`
	DecodeSteps []struct {
		Text  [][]int    `json:"text"`
		MRoPE [3][][]int `json:"mrope"`
	} `json:"decode_steps"`
	Tensors         string `json:"tensors"`
	DeepstackLayers int    `json:"deepstack_layers"`
}

func (c *goldenCase) images() []Grid {
	var g []Grid
	for _, x := range c.ImageGridTHW {
		g = append(g, Grid{x[0], x[1], x[2]})
	}
	return g
}

func (c *goldenCase) videoGrids() []Grid {
	var g []Grid
	for _, x := range c.VideoGridTHW {
		g = append(g, Grid{x[0], x[1], x[2]})
	}
	return g
}

// videos computes each video's timestamps from its metadata, as a caller would.
func (c *goldenCase) videos(t *testing.T) []Video {
	t.Helper()
	var v []Video
	for i, g := range c.videoGrids() {
		md := c.VideoMetadata[i]
		fps := 0.0 // unknown: GroupTimestamps uses 24 like the processor
		if md.FPSGiven != nil {
			fps = *md.FPSGiven
		}
		ts := imageproc.GroupTimestamps(md.FramesIndices, fps, 2)
		if !sameFloats(ts, c.VideoTimestamps[i]) {
			t.Fatalf("%s: video %d: timestamps %v, reference %v", c.Name, i, ts, c.VideoTimestamps[i])
		}
		v = append(v, Video{Grid: g, Timestamps: ts})
	}
	return v
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

type goldenFile struct {
	Versions         map[string]string `json:"versions"`
	ModelType        string            `json:"model_type"`
	Tokens           map[string]int32  `json:"tokens"`
	SpatialMergeSize int               `json:"spatial_merge_size"`
	Cases            []goldenCase      `json:"cases"`
}

func readJSON(t *testing.T, dir, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("goldens: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("goldens: %s: %v", name, err)
	}
}

func readCases(t *testing.T, dir string) goldenFile {
	t.Helper()
	var g goldenFile
	readJSON(t, dir, "cases.json", &g)
	if len(g.Cases) == 0 {
		t.Fatal("goldens: cases.json has no cases")
	}
	return g
}

// goldenTokens are the tokens of the golden checkpoint folder, read as a runtime would.
func goldenTokens(t *testing.T, dir string) Tokens {
	t.Helper()
	tok, err := LoadTokens(filepath.Join(dir, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// goldenSpecials are the golden tokenizer's other special tokens (outside the vision ones).
var goldenSpecials = map[string]int32{
	"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645,
	"<|object_ref_start|>": 151646, "<|object_ref_end|>": 151647, "<|box_start|>": 151648,
	"<|box_end|>": 151649, "<|quad_start|>": 151650, "<|quad_end|>": 151651, "<|vision_pad|>": 151654,
}

// byteEncoder is the golden tokenizer on text without vision tokens: its special tokens are
// atomic, every other byte is one token whose id is the byte.
func byteEncoder(s string) ([]int32, error) { return encodeBytes(s, goldenSpecials), nil }

// encodeBytes is the golden tokenizers' rule: the specials are atomic, every other byte is one
// token whose id is the byte.
func encodeBytes(s string, specials map[string]int32) []int32 {
	var ids []int32
	for i := 0; i < len(s); {
		special := false
		if s[i] == '<' {
			for text, id := range specials {
				if strings.HasPrefix(s[i:], text) {
					ids = append(ids, id)
					i += len(text)
					special = true
					break
				}
			}
		}
		if !special {
			ids = append(ids, int32(s[i]))
			i++
		}
	}
	return ids
}

// encoder is byteEncoder for a golden set: the set's special tokens (cases.json "tokens") other
// than the four vision tokens are atomic, every other byte is one token.
func (g goldenFile) encoder() func(string) ([]int32, error) {
	specials := map[string]int32{}
	for text, id := range g.Tokens {
		switch text {
		case DefaultVisionStart, DefaultVisionEnd, DefaultImagePad, DefaultVideoPad:
		default:
			specials[text] = id
		}
	}
	return func(s string) ([]int32, error) { return encodeBytes(s, specials), nil }
}

func unmasked(ids []int32, mask []int) []int32 {
	var out []int32
	for i, id := range ids {
		if mask[i] != 0 {
			out = append(out, id)
		}
	}
	return out
}

func TestGoldenTokens(t *testing.T) { forEachGolden(t, testGoldenTokens) }

func testGoldenTokens(t *testing.T, dir string) {
	g := readCases(t, dir)
	tok := goldenTokens(t, dir)
	want := Tokens{
		VisionStart: Token{g.Tokens["<|vision_start|>"], "<|vision_start|>"},
		VisionEnd:   Token{g.Tokens["<|vision_end|>"], "<|vision_end|>"},
		ImagePad:    Token{g.Tokens["<|image_pad|>"], "<|image_pad|>"},
		VideoPad:    Token{g.Tokens["<|video_pad|>"], "<|video_pad|>"},
		MergeSize:   g.SpatialMergeSize,
	}
	if tok != want {
		t.Fatalf("LoadTokens = %+v, want %+v", tok, want)
	}
	// The ids are also the defaults of the checkpoint's model_type (what the reference's config
	// class would take for a config.json without them).
	def, ok := FamilyTokens(g.ModelType)
	if g.ModelType == "" {
		def, ok = DefaultTokens(), true
	}
	if !ok || tok != def {
		t.Fatalf("the golden checkpoint's tokens %+v differ from the defaults of model_type %q: %+v", tok, g.ModelType, def)
	}
}

func TestGoldenExpand(t *testing.T) { forEachGolden(t, testGoldenExpand) }

func testGoldenExpand(t *testing.T, dir string) {
	g := readCases(t, dir)
	tok := goldenTokens(t, dir)
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			images, videos := c.images(), c.videos(t)
			marked := make([]string, len(c.Prompts))
			for i, p := range c.Prompts {
				marked[i] = strings.ReplaceAll(strings.ReplaceAll(p, chatImage, ImageMark), chatVideo, VideoMark)
			}
			for form, prompts := range map[string][]string{"chat-template": c.Prompts, "marks": marked} {
				exps, err := ExpandBatch(prompts, images, videos, tok)
				if err != nil {
					t.Fatalf("%s: %v", form, err)
				}
				for b, e := range exps {
					if e.Text != c.Expanded[b] {
						t.Fatalf("%s: row %d: expanded text differs\n got %q\nwant %q", form, b, e.Text, c.Expanded[b])
					}
				}
			}
			exps, _ := ExpandBatch(c.Prompts, images, videos, tok)
			for b, e := range exps {
				// the image spans start where the processor's replacement starts (ASCII: bytes = chars)
				var starts []int
				for _, o := range c.Offsets[b] {
					if o.Type == "image" {
						starts = append(starts, o.NewSpan[0])
					}
				}
				var got []int
				for _, s := range e.Spans {
					if s.Kind == KindImage {
						got = append(got, s.Byte)
					}
				}
				if !reflect.DeepEqual(got, starts) && !(len(got) == 0 && len(starts) == 0) {
					t.Errorf("row %d: image spans at bytes %v, processor's replacements at %v", b, got, starts)
				}
				// tokenized, the expansion is the processor's input_ids (without the padding)
				ids, err := e.Encode(g.encoder(), tok)
				if err != nil {
					t.Fatal(err)
				}
				want := unmasked(c.InputIDs[b], c.AttentionMask[b])
				if !reflect.DeepEqual(ids, want) {
					t.Fatalf("row %d: encoded ids differ from the processor's:\n got %v\nwant %v", b, ids, want)
				}
				checkSpans(t, ids, e.Spans, tok)
			}
		})
	}
}

// checkSpans checks that each span's Token starts a run of exactly Pads pads of its kind.
func checkSpans(t *testing.T, ids []int32, spans []Span, tok Tokens) {
	t.Helper()
	types := TokenTypes(ids, tok)
	covered := 0
	for i, s := range spans {
		end := s.Token + s.Pads
		if s.Token < 0 || end > len(ids) {
			t.Fatalf("span %d (%+v) outside the %d tokens", i, s, len(ids))
		}
		for k := s.Token; k < end; k++ {
			if types[k] != s.Kind {
				t.Fatalf("span %d: token %d is %v, not %v", i, k, types[k], s.Kind)
			}
		}
		if s.Token > 0 && types[s.Token-1] == s.Kind || end < len(ids) && types[end] == s.Kind {
			t.Fatalf("span %d: [%d, %d) is not a whole run", i, s.Token, end)
		}
		covered += s.Pads
	}
	n := 0
	for _, k := range types {
		if k != KindText {
			n++
		}
	}
	if n != covered {
		t.Fatalf("spans cover %d pads of %d", covered, n)
	}
}

func TestGoldenExpandIDs(t *testing.T) { forEachGolden(t, testGoldenExpandIDs) }

func testGoldenExpandIDs(t *testing.T, dir string) {
	g := readCases(t, dir)
	tok := goldenTokens(t, dir)
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			images, videos := c.images(), c.videos(t)
			for b, raw := range c.RawInputIDs {
				// this row's items: the next ones in batch order
				ni, nv := 0, 0
				for _, id := range raw {
					switch id {
					case tok.ImagePad.ID:
						ni++
					case tok.VideoPad.ID:
						nv++
					}
				}
				ids, spans, err := ExpandIDs(raw, images[:ni], videos[:nv], tok, g.encoder())
				if err != nil {
					t.Fatal(err)
				}
				images, videos = images[ni:], videos[nv:]
				if want := unmasked(c.InputIDs[b], c.AttentionMask[b]); !reflect.DeepEqual(ids, want) {
					t.Fatalf("row %d: expanded ids differ:\n got %v\nwant %v", b, ids, want)
				}
				checkSpans(t, ids, spans, tok)
			}
		})
	}
}

func TestGoldenTokenTypes(t *testing.T) { forEachGolden(t, testGoldenTokenTypes) }

func testGoldenTokenTypes(t *testing.T, dir string) {
	g := readCases(t, dir)
	tok := goldenTokens(t, dir)
	for _, c := range g.Cases {
		for b, ids := range c.InputIDs {
			got := TokenTypes(ids, tok)
			for i, k := range got {
				if int(k) != c.MMTokenTypeIDs[b][i] {
					t.Fatalf("%s row %d token %d: type %d, reference %d", c.Name, b, i, k, c.MMTokenTypeIDs[b][i])
				}
			}
		}
	}
}

func TestGoldenRopeIndex(t *testing.T) { forEachGolden(t, testGoldenRopeIndex) }

func testGoldenRopeIndex(t *testing.T, dir string) {
	g := readCases(t, dir)
	tok := goldenTokens(t, dir)
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			masks := make([][]bool, len(c.AttentionMask))
			for b, m := range c.AttentionMask {
				masks[b] = make([]bool, len(m))
				for i, v := range m {
					masks[b][i] = v != 0
				}
			}
			pos, deltas, err := RopeIndexBatch(c.InputIDs, masks, c.images(), c.videoGrids(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(deltas, c.RopeDeltas) {
				t.Fatalf("rope deltas %v, reference %v", deltas, c.RopeDeltas)
			}
			for b := range c.InputIDs {
				for r := range 3 {
					if !reflect.DeepEqual(pos[b][r], c.PositionIDs[r][b]) {
						t.Fatalf("row %d, MRoPE row %d:\n got %v\nwant %v", b, r, pos[b][r], c.PositionIDs[r][b])
					}
				}
			}
			// generate(): the k-th generated token (k = 0 is fed at decode step 1)
			if len(c.DecodeSteps) == 0 {
				t.Fatal("no decode steps in the golden")
			}
			for k, step := range c.DecodeSteps {
				for b := range c.InputIDs {
					n := len(unmasked(c.InputIDs[b], c.AttentionMask[b])) + k
					if step.Text[b][0] != n {
						t.Fatalf("step %d row %d: the reference's text position %d, expected the unmasked index %d", k, b, step.Text[b][0], n)
					}
					want := DecodePosition(n, deltas[b])
					for r := range 3 {
						if step.MRoPE[r][b][0] != want {
							t.Fatalf("step %d row %d: MRoPE row %d is %d, DecodePosition gives %d", k, b, r, step.MRoPE[r][b][0], want)
						}
					}
				}
			}
		})
	}
}

func openTensors(t *testing.T, dir, name string) *safetensors.File {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readMatrix(t *testing.T, f *safetensors.File, name string) Matrix {
	t.Helper()
	info, ok := f.Info(name)
	if !ok {
		t.Fatalf("%s: no tensor %s", f.Path(), name)
	}
	data, err := f.Float32(name)
	if err != nil {
		t.Fatal(err)
	}
	cols := info.Shape[len(info.Shape)-1]
	return Matrix{Rows: len(data) / cols, Cols: cols, Data: data}
}

func readFeatures(t *testing.T, f *safetensors.File, kind string, k int) *Features {
	t.Helper()
	if _, ok := f.Info(kind + "_pooler"); !ok {
		return nil
	}
	fe := &Features{Pooler: readMatrix(t, f, kind+"_pooler")}
	for j := range k {
		fe.Deepstack = append(fe.Deepstack, readMatrix(t, f, kind+"_deepstack."+strconv.Itoa(j)))
	}
	return fe
}

func sameBits(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

func TestGoldenScatter(t *testing.T) { forEachGolden(t, testGoldenScatter) }

func testGoldenScatter(t *testing.T, dir string) {
	g := readCases(t, dir)
	tok := goldenTokens(t, dir)
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			f := openTensors(t, dir, c.Tensors)
			embeds := readMatrix(t, f, "text_embeds")
			images := readFeatures(t, f, "image", c.DeepstackLayers)
			videos := readFeatures(t, f, "video", c.DeepstackLayers)
			p, err := ScatterBatch(embeds, c.InputIDs, images, videos, tok)
			if err != nil {
				t.Fatal(err)
			}
			want := readMatrix(t, f, "inputs_embeds")
			if i := sameBits(embeds.Data, want.Data); i >= 0 {
				t.Fatalf("inputs_embeds differ from the reference at value %d", i)
			}
			var maskBytes []byte
			if _, ok := f.Info("visual_pos_masks"); ok {
				if maskBytes, err = f.Bytes("visual_pos_masks"); err != nil {
					t.Fatal(err)
				}
			} else if c.DeepstackLayers == 0 {
				// A model without DeepStack gets no visual mask; the visual rows are the
				// reference's multimodal token types.
				for _, row := range c.MMTokenTypeIDs {
					for _, k := range row {
						maskBytes = append(maskBytes, byte(min(k, 1)))
					}
				}
			} else {
				t.Fatal("no visual_pos_masks in the golden")
			}
			if len(maskBytes) != len(p.Visual) {
				t.Fatalf("visual mask of %d, reference %d", len(p.Visual), len(maskBytes))
			}
			for i, v := range p.Visual {
				if v != (maskBytes[i] != 0) {
					t.Fatalf("visual_pos_masks differ at row %d", i)
				}
			}
			if len(p.Deepstack) != c.DeepstackLayers {
				t.Fatalf("%d DeepStack matrices, reference %d", len(p.Deepstack), c.DeepstackLayers)
			}
			for j, d := range p.Deepstack {
				w := readMatrix(t, f, "deepstack_visual_embeds."+strconv.Itoa(j))
				if d.Rows != w.Rows || d.Cols != w.Cols || sameBits(d.Data, w.Data) >= 0 {
					t.Fatalf("deepstack_visual_embeds[%d] differ from the reference", j)
				}
			}
			// decoder layer 0's output plus DeepStack row 0 at the visual positions is layer 1's
			// input (with no DeepStack, layer 0's output is)
			h := readMatrix(t, f, "layer0_out")
			if len(p.Deepstack) > 0 {
				if err := AddDeepstack(h, p.Visual, p.Deepstack[0]); err != nil {
					t.Fatal(err)
				}
			}
			if i := sameBits(h.Data, readMatrix(t, f, "layer1_in").Data); i >= 0 {
				t.Fatalf("layer 0 output + DeepStack differs from layer 1's input at value %d", i)
			}
		})
	}
}

// TestGoldenTimestamps checks TimestampText against Python's format(x, ".1f") on the values of
// timestamps.json (its sampling and group parts are imageproc's: imageproc/frames_test.go).
func TestGoldenTimestamps(t *testing.T) { forEachGolden(t, testGoldenTimestamps) }

func testGoldenTimestamps(t *testing.T, dir string) {
	var g struct {
		Format []struct {
			Bits string `json:"bits"`
			Text string `json:"text"`
		} `json:"format"`
	}
	readJSON(t, dir, "timestamps.json", &g)
	if len(g.Format) < 100 {
		t.Fatal("timestamps.json is incomplete")
	}
	for _, f := range g.Format {
		bits, err := strconv.ParseUint(f.Bits, 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		x := math.Float64frombits(bits)
		if got := TimestampText(x); got != "<"+f.Text+" seconds>" {
			t.Errorf("TimestampText(%v) = %q, Python %q", x, got, f.Text)
		}
	}
}

func TestGoldenErrors(t *testing.T) { forEachGolden(t, testGoldenErrors) }

func testGoldenErrors(t *testing.T, dir string) {
	var g struct {
		Expand []struct {
			Name    string   `json:"name"`
			Error   *string  `json:"error"`
			Prompts []string `json:"prompts"`
			Images  int      `json:"images"`
			Videos  int      `json:"videos"`
		} `json:"expand"`
		Rope []struct {
			Name     string   `json:"name"`
			IDs      []int32  `json:"input_ids"`
			Images   [][3]int `json:"image_grid_thw"`
			Videos   [][3]int `json:"video_grid_thw"`
			Error    *string  `json:"error"`
			Position [3][]int `json:"position_ids"`
			Delta    int      `json:"rope_delta"`
		} `json:"rope"`
	}
	readJSON(t, dir, "errors.json", &g)
	tok := goldenTokens(t, dir)
	for _, c := range g.Expand {
		t.Run("expand/"+c.Name, func(t *testing.T) {
			images := make([]Grid, c.Images)
			for i := range images {
				images[i] = Grid{1, 4, 4}
			}
			videos := make([]Video, c.Videos)
			for i := range videos {
				videos[i] = Video{Grid{2, 4, 4}, []float64{0.25, 1.25}}
			}
			_, err := ExpandBatch(c.Prompts, images, videos, tok)
			if c.Error == nil {
				if err != nil {
					t.Fatalf("error %v; the reference has none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), *c.Error) {
				t.Fatalf("error %v, want the reference's %q", err, *c.Error)
			}
		})
	}
	for _, c := range g.Rope {
		t.Run("rope/"+c.Name, func(t *testing.T) {
			var images, videos []Grid
			for _, x := range c.Images {
				images = append(images, Grid{x[0], x[1], x[2]})
			}
			for _, x := range c.Videos {
				videos = append(videos, Grid{x[0], x[1], x[2]})
			}
			pos, delta, err := RopeIndex(c.IDs, nil, images, videos, tok)
			if c.Error != nil {
				if err == nil {
					t.Fatalf("no error; the reference raised %q", *c.Error)
				}
				t.Logf("reference: %q; textjoin: %v", *c.Error, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if delta != c.Delta || !reflect.DeepEqual([3][]int(pos), c.Position) {
				t.Fatalf("positions %v delta %d, reference %v %d", pos, delta, c.Position, c.Delta)
			}
		})
	}
}
