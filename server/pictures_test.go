package server

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/testimg"
	"github.com/qwen3vl/qwen3vl/picture"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// TestPictures checks the two pictures against picture's functions run directly on the image
// (decoded, resized and encoded outside the server), byte for byte, for a wide and a tall image.
func TestPictures(t *testing.T) {
	ts := newTestServer(t, nil, false)
	lm := ts.model.Load()
	cfg := lm.vcfg
	for _, size := range [][2]int{{96, 64}, {40, 120}} {
		data := pngImage(t, size[0], size[1], 3)
		rgb, err := imageproc.Decode(context.Background(), bytes.NewReader(data), "want", lm.pre)
		if err != nil {
			t.Fatal(err)
		}
		img, err := imageproc.Resized(rgb, lm.pre)
		if err != nil {
			t.Fatal(err)
		}
		name := `image 0 ("imga.png")`

		e, err := pipeline.Explain(cfg, lm.id, lm.pre, fmt.Sprintf("%s, %d×%d after EXIF orientation", name, size[0], size[1]), size[0], size[1])
		if err != nil {
			t.Fatal(err)
		}
		var explain bytes.Buffer
		if err := picture.Explain(&explain, img, e); err != nil {
			t.Fatal(err)
		}

		pre, err := imageproc.Preprocess(rgb, lm.pre)
		if err != nil {
			t.Fatal(err)
		}
		var b pipeline.Batch
		b.Add(pipeline.ImageItem(name, pre))
		out, err := tiny(t).Encode(context.Background(), b.Pixels(), b.Grids())
		if err != nil {
			t.Fatal(err)
		}
		res, err := b.Result(out)
		if err != nil {
			t.Fatal(err)
		}
		var features bytes.Buffer
		if err := picture.Features(&features, img, res.Items(0, 1), picture.MapOptions{PatchSize: cfg.PatchSize, MergeSize: cfg.SpatialMergeSize, DeepstackBlocks: cfg.DeepstackVisualIndexes}); err != nil {
			t.Fatal(err)
		}

		for _, c := range []struct {
			route string
			want  []byte
		}{{explainRoute.path, explain.Bytes()}, {featuresRoute.path, features.Bytes()}} {
			ct, body := multipartBody(t, nil, data)
			resp, got := do(t, http.DefaultClient, "POST", ts.http.URL+c.route, ct, body, map[string]string{"Accept": "image/png,*/*;q=0.8"})
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("%s %v: %d %s %.300s", c.route, size, resp.StatusCode, resp.Header.Get("Content-Type"), got)
			}
			if !bytes.Equal(got, c.want) {
				t.Errorf("%s %v: %d bytes, not the %d of picture's own drawing", c.route, size, len(got), len(c.want))
			}
			if _, err := png.Decode(bytes.NewReader(got)); err != nil {
				t.Errorf("%s: %v", c.route, err)
			}
		}
	}
	// A request is counted once its response is written: the last one's count may come a
	// moment after its client has read it.
	for _, r := range []string{explainRoute.path, featuresRoute.path} {
		waitFor(t, r+"'s two 200s counted", func() bool {
			return metricValue(t, metricsText(t, ts.Server), fmt.Sprintf(`qwen3vl_http_requests_total{route=%q,code="200"}`, r)) == 2
		})
	}
}

// TestPictureErrors checks that bad input to the pictures gets exactly /v1/encode's answer
// (status, code and message: one code path), and the errors of their own.
func TestPictureErrors(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxBody = 64 << 10 }, false)
	mp := func(fields map[string]string, images ...[]byte) (string, []byte) {
		return multipartBody(t, fields, images...)
	}
	notImage := func() (string, []byte) { return mp(nil, []byte("hello, not an image")) }
	same := []struct {
		name string
		body func() (string, []byte)
		// status is what /v1/encode answers too.
		status int
		code   string
	}{
		{"not an image", notImage, 400, CodeInvalidImage},
		{"a decompression bomb", func() (string, []byte) { return mp(nil, testimg.PNGBomb(100000, 100000)) }, 422, CodeImageTooLarge},
		{"a body over the limit", func() (string, []byte) { return "image/png", bytes.Repeat([]byte("x"), 65<<10) }, 413, CodeBodyTooLarge},
		{"an empty body", func() (string, []byte) { return "image/png", nil }, 400, CodeInvalidRequest},
		{"text/plain", func() (string, []byte) { return "text/plain", []byte("x") }, 415, CodeUnsupportedMediaType},
		{"max_pixels over the server's", func() (string, []byte) {
			return mp(map[string]string{"max_pixels": "99999999"}, pngImage(t, 32, 32, 1))
		}, 400, CodeInvalidParameter},
		{"an aspect ratio over 200", func() (string, []byte) { return "image/png", pngImage(t, 402, 2, 1) }, 422, CodeAspectRatio},
	}
	for _, c := range same {
		ct, body := c.body()
		resp, want := do(t, http.DefaultClient, "POST", ts.http.URL+"/v1/encode", ct, body, nil)
		wantError(t, resp, want, c.status, c.code)
		for _, route := range []string{explainRoute.path, featuresRoute.path} {
			resp, got := do(t, http.DefaultClient, "POST", ts.http.URL+route, ct, body, nil)
			wantError(t, resp, got, c.status, c.code)
			if !bytes.Equal(got, want) {
				t.Errorf("%s, %s: %s, /v1/encode answers %s", c.name, route, got, want)
			}
		}
	}

	img := pngImage(t, 32, 32, 1)
	for _, route := range []string{explainRoute.path, featuresRoute.path} {
		resp, body := do(t, http.DefaultClient, "POST", ts.http.URL+route, "image/png", img, map[string]string{"Accept": "application/json"})
		wantError(t, resp, body, http.StatusNotAcceptable, CodeNotAcceptable)
		resp, body = do(t, http.DefaultClient, "POST", ts.http.URL+route, "image/png", img, map[string]string{"Accept": "image/png;q=0"})
		wantError(t, resp, body, http.StatusNotAcceptable, CodeNotAcceptable)
		resp, body = do(t, http.DefaultClient, "POST", ts.http.URL+route+"?include=last_hidden_state", "image/png", img, nil)
		wantError(t, resp, body, http.StatusBadRequest, CodeInvalidParameter)
		if !strings.Contains(string(body), "known: min_pixels, max_pixels)") {
			t.Errorf("%s?include: %s", route, body)
		}
		ct, field := multipartBody(t, map[string]string{"include": "last_hidden_state"}, img)
		resp, body = do(t, http.DefaultClient, "POST", ts.http.URL+route, ct, field, nil)
		wantError(t, resp, body, http.StatusBadRequest, CodeInvalidParameter)
		if !strings.Contains(string(body), "the fields are min_pixels, max_pixels)") {
			t.Errorf("%s with the form field include: %s", route, body)
		}
		ct, two := multipartBody(t, nil, img, img)
		resp, body = do(t, http.DefaultClient, "POST", ts.http.URL+route, ct, two, nil)
		wantError(t, resp, body, http.StatusBadRequest, CodeInvalidRequest)
		if !strings.Contains(string(body), "2 images in the request: "+route+" draws one") {
			t.Errorf("%s with two images: %s", route, body)
		}
		resp, body = do(t, http.DefaultClient, "GET", ts.http.URL+route, "", nil, nil)
		wantError(t, resp, body, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
		// A smaller budget is taken, as by /v1/encode.
		ct, small := multipartBody(t, map[string]string{"max_pixels": "1024"}, pngImage(t, 96, 64, 1))
		if resp, body := do(t, http.DefaultClient, "POST", ts.http.URL+route, ct, small, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s with max_pixels 1024: %d %s", route, resp.StatusCode, body)
		}
	}
}

// TestPicturesAdmission checks that the pictures take the encode path's queue slots: with
// Config.Queue 1 held by a features picture waiting for its encode, an explain picture and an
// encode are refused 429, and the features picture is answered once the encode runs.
func TestPicturesAdmission(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Queue = 1 }, true)
	img := pngImage(t, 64, 64, 1)
	var wg sync.WaitGroup
	var status int
	wg.Add(1)
	go func() {
		defer wg.Done()
		resp, _ := do(t, http.DefaultClient, "POST", ts.http.URL+featuresRoute.path, "image/png", img, nil)
		status = resp.StatusCode
	}()
	ts.gate.waitEntered(t)
	for _, route := range []string{explainRoute.path, "/v1/encode"} {
		resp, body := do(t, http.DefaultClient, "POST", ts.http.URL+route, "image/png", img, nil)
		wantError(t, resp, body, http.StatusTooManyRequests, CodeQueueFull)
	}
	ts.gate.open()
	wg.Wait()
	if status != http.StatusOK {
		t.Errorf("the admitted features picture: %d", status)
	}
	waitFor(t, "the explain picture's 429 counted", func() bool {
		return metricValue(t, metricsText(t, ts.Server), `qwen3vl_http_requests_total{route="/v1/explain.png",code="429"}`) == 1
	})
	if v := metricValue(t, metricsText(t, ts.Server), "qwen3vl_batches_total"); v < 1 {
		t.Errorf("the features picture ran no batch: %v", v)
	}
}

// TestNegotiatePNG: the most specific matching range decides whether PNG is acceptable.
func TestNegotiatePNG(t *testing.T) {
	for _, c := range []struct {
		accept string
		ok     bool
	}{
		{"", true},
		{"image/png", true},
		{"image/*", true},
		{"*/*", true},
		{"text/html, */*;q=0.1", true},
		{"application/json", false},
		{"image/png;q=0, */*", false},
		{"image/png;q=0, image/*", false},
		{"image/*;q=0, image/png", true},
		{"image/*;q=0, */*", false},
		{"*/*;q=0", false},
		{"image/png;q=zero", false},
	} {
		_, e := negotiatePNG(c.accept)
		if (e == nil) != c.ok {
			t.Errorf("Accept %q: acceptable %v, want %v", c.accept, e == nil, c.ok)
		}
	}
}
