package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/server"
	"github.com/qwen3vl/qwen3vl/vision"
)

// Example serves the tiny synthetic model and encodes one PNG.
func Example() {
	cfg := server.DefaultConfig()
	cfg.Model = "random:tiny"
	cfg.MinPixels, cfg.MaxPixels = 64*64, 256*256
	cfg.Logger = slog.New(slog.DiscardHandler)
	s, err := server.New(cfg)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	vcfg, _ := vision.Preset("tiny")
	m, err := vision.Random(vcfg, 1, vision.Options{})
	if err != nil {
		panic(err)
	}
	if err := s.SetModel(m, imageproc.DefaultOptions()); err != nil {
		panic(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()

	img := image.NewGray(image.Rect(0, 0, 96, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	png.Encode(&buf, img)

	resp, err := http.Post(ts.URL+"/v1/encode", "image/png", &buf)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var out server.EncodeResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		panic(err)
	}
	im := out.Images[0]
	fmt.Println(resp.Status)
	fmt.Println("grid", im.GridTHW, "tokens", im.Tokens, "pooler", im.Shapes.PoolerOutput, "deepstack", len(im.DeepstackFeatures))
	// Output:
	// 200 OK
	// grid [1 4 6] tokens 6 pooler [6 96] deepstack 2
}
