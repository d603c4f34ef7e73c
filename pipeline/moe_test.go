package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/internal/synth"
	"github.com/qwen3vl/qwen3vl/text"
	"github.com/qwen3vl/qwen3vl/vision"
)

// A qwen3_vl_moe checkpoint folder (testdata/text/tiny-moe's config and text files, the
// synthetic weights written as a released checkpoint stores them: experts fused and
// [E, in, out]) opens as an Assistant, tower and MoE decoder, and answers the golden's text
// case with the reference's greedy tokens.
func TestOpenAssistantMoECheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("writes an 80 MB checkpoint")
	}
	ctx := context.Background()
	golden := "../testdata/text/tiny-moe"
	dir := t.TempDir()
	for _, f := range []string{"config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.json",
		"generation_config.json", "preprocessor_config.json", "video_preprocessor_config.json"} {
		b, err := os.ReadFile(filepath.Join(golden, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const seed = 7
	vcfg, err := vision.ReadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatalf("vision side of a qwen3_vl_moe config: %v", err)
	}
	tcfg, err := text.ReadConfig(filepath.Join(dir, "config.json"))
	if err != nil || tcfg.MoE == nil {
		t.Fatalf("text side of a qwen3_vl_moe config: %+v %v", tcfg.MoE, err)
	}
	fill := func(stream string, shape []int, scale, offset float32) []float32 {
		n := 1
		for _, s := range shape {
			n *= s
		}
		v := make([]float32, n)
		synth.Fill(v, seed, stream, scale, offset)
		return v
	}
	var ts []safetensors.Tensor
	for _, s := range vcfg.Tensors() {
		scale, offset := vision.SyntheticScale(s.Name, s.Shape)
		ts = append(ts, safetensors.F32Tensor("model.visual."+s.Name, s.Shape, fill(s.Name, s.Shape, scale, offset)))
	}
	released := 0
	for _, s := range tcfg.Tensors() {
		shape := s.Shape
		if s.AltShape != nil { // the released layout, which the synth rule draws directly
			shape = s.AltShape
			released++
		}
		scale, offset := text.SyntheticScale(s.Name, shape)
		ts = append(ts, safetensors.F32Tensor(s.Name, shape, fill(s.Name, shape, scale, offset)))
	}
	if released == 0 {
		t.Fatal("no fused expert tensors in the table")
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
		t.Fatal(err)
	}
	spec, err := ParseSpec(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := OpenAssistant(ctx, spec, AssistantOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Decoder.Config().Equal(tcfg) {
		t.Fatalf("decoder config %+v", a.Decoder.Config())
	}

	data, err := os.ReadFile(filepath.Join(golden, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	type goldenCase struct {
		Name     string          `json:"name"`
		Messages json.RawMessage `json:"messages"`
		IDs      []int32         `json:"generated_ids"`
	}
	var g struct{ Cases []goldenCase }
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(g.Cases, func(c goldenCase) bool { return c.Name == "text" })
	if i < 0 {
		t.Fatal("no text case")
	}
	conv, err := chat.ParseConversation(g.Cases[i].Messages)
	if err != nil {
		t.Fatal(err)
	}
	gen := a.Generation
	gen.DoSample, gen.MaxNewTokens = false, 24
	ans, err := a.Ask(ctx, conv, nil, gen, func(string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if want := g.Cases[i].IDs[:24]; !slices.Equal(ans.IDs, want) {
		t.Errorf("greedy ids %v\nthe reference's %v", ans.IDs, want)
	}
}
