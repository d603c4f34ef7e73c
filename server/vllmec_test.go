package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/mmhash"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// ecEntry reads root/hash/encoder_cache.safetensors.
func ecEntry(t *testing.T, root, hash string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, hash, pipeline.VLLMECFile))
	if err != nil {
		t.Fatalf("entry %s: %v", hash, err)
	}
	return b
}

// translucentPNG is a PNG with half-transparent pixels.
func translucentPNG(t *testing.T) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	img.SetNRGBA(0, 0, color.NRGBA{1, 2, 3, 4})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestEncodeWritesVLLMEC: with VLLMECDir every image of /v1/encode gets its entry under the
// hash vLLM computes for its bytes with VLLMModel and the request's pixel bounds (query
// min_pixels, max_pixels); the header lists the hashes; the same request again finds them
// present; an image vLLM would load otherwise is skipped ("-") and the request still succeeds.
func TestEncodeWritesVLLMEC(t *testing.T) {
	root := t.TempDir()
	const model = "Qwen/Qwen3-VL-2B-Instruct"
	ts := newTestServer(t, func(c *Config) { c.VLLMECDir, c.VLLMModel = root, model }, false)
	a := pngImage(t, 100, 60, 1)
	resp, body := do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode?max_pixels=16384&format=vllm", "image/png", a, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	key := mmhash.Key{Algorithm: mmhash.Blake3, ModelID: model, MMProcessorKwargs: mmhash.Map{{Key: "max_pixels", Value: int64(16384)}}}
	want, err := pipeline.VLLMImageHash(key, "a", a)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get(ecHeader); got != want {
		t.Fatalf("%s %q, want %q", ecHeader, got, want)
	}
	entry := ecEntry(t, root, want)
	// The entry's rows are the image_embeds part's: the .npy data equals the tensor's data.
	if !bytes.Contains(body, []byte(`"image_grid_thw"`)) || len(entry) < 100 {
		t.Fatalf("body %.100s, entry of %d bytes", body, len(entry))
	}
	resp, _ = do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode?max_pixels=16384", "image/png", a, nil)
	if resp.StatusCode != 200 || resp.Header.Get(ecHeader) != want {
		t.Errorf("again: %d %q", resp.StatusCode, resp.Header.Get(ecHeader))
	}
	resp, body = do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "image/png", translucentPNG(t), nil)
	if resp.StatusCode != 200 || resp.Header.Get(ecHeader) != "-" {
		t.Errorf("translucent image: %d %q %.200s", resp.StatusCode, resp.Header.Get(ecHeader), body)
	}
	m := metricsText(t, ts.Server)
	for _, s := range []string{`qwen3vl_vllm_ec_entries_total{outcome="written"} 1`, `qwen3vl_vllm_ec_entries_total{outcome="present"} 1`, `qwen3vl_vllm_ec_entries_total{outcome="skipped"} 1`} {
		if !strings.Contains(m, s) {
			t.Errorf("metrics lack %s", s)
		}
	}
}

// TestProxyWritesVLLMEC: the proxy writes the entries of the images it encodes, hashed with
// the request's mm_processor_kwargs, whose max_pixels also sets the preprocessing.
func TestProxyWritesVLLMEC(t *testing.T) {
	root := t.TempDir()
	up := recordUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[]}`)
	})
	ts := newProxy(t, up.srv.URL, func(c *Config) { c.VLLMECDir, c.VLLMModel, c.VLLMHash = root, "m", "sha256" })
	a := pngImage(t, 300, 200, 3)
	req := `{"model":"m","mm_processor_kwargs":{"max_pixels":16384},"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"` + dataURL(a) + `"}}]}]}`
	resp, body := postProxy(t, ts, req, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	key := mmhash.Key{Algorithm: mmhash.SHA256, ModelID: "m", MMProcessorKwargs: mmhash.Map{{Key: "max_pixels", Value: int64(16384)}}}
	want, _ := pipeline.VLLMImageHash(key, "a", a)
	if got := resp.Header.Get(ecHeader); got != want {
		t.Fatalf("%s %q, want %q", ecHeader, got, want)
	}
	ecEntry(t, root, want)
	// max_pixels 16384 gave the forwarded part the grid of that budget, not the server's.
	h, w, err := imageproc.SmartResize(200, 300, 32, 4096, 16384)
	if err != nil {
		t.Fatal(err)
	}
	grid := fmt.Sprintf(`"image_grid_thw":[1,%d,%d]`, h/16, w/16)
	if fwd := string(up.bodies[0]); !strings.Contains(fwd, grid) || h*w == 200*300 {
		t.Errorf("forwarded %.300s, want %s", fwd[strings.Index(fwd, "image_grid_thw"):], grid)
	}
}

func TestVLLMECConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		mutate func(*Config)
		want   string
	}{
		{func(c *Config) { c.VLLMECDir, c.VLLMModel = "/nonexistent/ec", "m" }, "VLLMECDir \"/nonexistent/ec\" must be an existing folder"},
		{func(c *Config) { c.VLLMECDir, c.VLLMModel = file, "m" }, "must be an existing folder"},
		{func(c *Config) { c.VLLMECDir = t.TempDir() }, "VLLMModel is required"},
		{func(c *Config) { c.VLLMHash = "md5" }, `VLLMHash "md5" must be blake3, sha256 or sha512`},
	} {
		c := testConfig()
		tc.mutate(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
}

// TestProxyUpstreamEC: with UpstreamEC each image reaches the upstream as a metadata-only
// image_embeds part whose uuid is the image's hash, its entry written under the identifier vLLM
// derives from that uuid (the uuid itself without hash factors, hash_kwargs of it with them);
// an image without an entry keeps its embeddings.
func TestProxyUpstreamEC(t *testing.T) {
	root := t.TempDir()
	up := recordUpstream(t, chatAnswer)
	ts := newProxy(t, up.srv.URL, func(c *Config) { c.VLLMECDir, c.VLLMModel, c.UpstreamEC = root, "m", true })
	a, b := pngImage(t, 100, 60, 5), translucentPNG(t)
	for _, kw := range []string{"", `"mm_processor_kwargs":{"max_pixels":16384},`} {
		req := `{"model":"m",` + kw + `"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"` + dataURL(a) + `"}},{"type":"image_url","image_url":{"url":"data:image/png;base64,` + base64.StdEncoding.EncodeToString(b) + `"}},{"type":"text","text":"x"}]}]}`
		resp, body := postProxy(t, ts, req, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		key := mmhash.Key{Algorithm: mmhash.Blake3, ModelID: "m"}
		if kw != "" {
			key.MMProcessorKwargs = mmhash.Map{{Key: "max_pixels", Value: int64(16384)}}
		}
		h, _ := pipeline.VLLMImageHash(key, "a", a)
		id, _ := key.UUID(h)
		if (kw == "") != (id == h) {
			t.Fatalf("identifier %s for uuid %s with kwargs %q", id, h, kw)
		}
		if got := resp.Header.Get(ecHeader); got != id+",-" {
			t.Errorf("%s %q, want %q", ecHeader, got, id+",-")
		}
		ecEntry(t, root, id)
		var fwd struct {
			Messages []struct {
				Content []json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		up.mu.Lock()
		last := up.bodies[len(up.bodies)-1]
		up.mu.Unlock()
		if err := json.Unmarshal(last, &fwd); err != nil {
			t.Fatal(err)
		}
		parts := fwd.Messages[0].Content
		var ref map[string]json.RawMessage
		json.Unmarshal(parts[0], &ref)
		var grid struct {
			G []int `json:"image_grid_thw"`
		}
		json.Unmarshal(ref["image_embeds"], &grid)
		if string(ref["type"]) != `"image_embeds"` || string(ref["uuid"]) != `"`+h+`"` || len(grid.G) != 3 || bytes.Contains(ref["image_embeds"], []byte(`"image_embeds":`)) {
			t.Errorf("first part %s", parts[0])
		}
		if !bytes.Contains(parts[1], []byte(`"image_embeds":"k05VTVBZ`)) || bytes.Contains(parts[1], []byte(`"uuid"`)) {
			t.Errorf("the translucent image's part does not carry its embeddings: %.200s", parts[1])
		}
	}
	c := testConfig()
	c.UpstreamEC = true
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "UpstreamEC true needs Upstream") || !strings.Contains(err.Error(), "needs VLLMECDir") {
		t.Errorf("Validate: %v", err)
	}
}
