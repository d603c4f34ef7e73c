package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/vision"
)

func TestHealthzReadyzBeforeAndAfterLoad(t *testing.T) {
	s, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	c := ts.Client()

	resp, body := do(t, c, "GET", ts.URL+"/healthz", "", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("/healthz before load: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, c, "GET", ts.URL+"/readyz", "", nil, nil)
	wantError(t, resp, body, 503, CodeNotReady)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 not_ready without Retry-After")
	}
	resp, body = do(t, c, "GET", ts.URL+"/v1/models", "", nil, nil)
	wantError(t, resp, body, 503, CodeNotReady)
	ct, mp := multipartBody(t, nil, pngImage(t, 40, 30, 1))
	resp, body = do(t, c, "POST", ts.URL+"/v1/encode", ct, mp, nil)
	wantError(t, resp, body, 503, CodeNotReady)
	if m := metricsText(t, s); !strings.Contains(m, `qwen3vl_model_ready{model="random:tiny"} 0`) {
		t.Errorf("metrics before load:\n%s", m)
	}

	// Load resolves random:tiny itself.
	if err := s.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.SetModel(tiny(t), imageproc.DefaultOptions()); err == nil {
		t.Error("a second SetModel succeeded")
	}
	resp, body = do(t, c, "GET", ts.URL+"/readyz", "", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"ready"`) {
		t.Errorf("/readyz after load: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, c, "HEAD", ts.URL+"/healthz", "", nil, nil)
	if resp.StatusCode != 200 {
		t.Errorf("HEAD /healthz: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, c, "POST", ts.URL+"/v1/encode", ct, mp, nil)
	if resp.StatusCode != 200 {
		t.Errorf("encode after load: %d %s", resp.StatusCode, body)
	}

	s.Drain()
	resp, body = do(t, c, "GET", ts.URL+"/readyz", "", nil, nil)
	wantError(t, resp, body, 503, CodeDraining)
	resp, body = do(t, c, "POST", ts.URL+"/v1/encode", ct, mp, nil)
	wantError(t, resp, body, 503, CodeDraining)
	resp, _ = do(t, c, "GET", ts.URL+"/healthz", "", nil, nil)
	if resp.StatusCode != 200 {
		t.Errorf("/healthz while draining: %d", resp.StatusCode)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, spec := range []string{"", "random:nope", "random:tiny@x", t.TempDir()} {
		cfg := testConfig()
		cfg.Model = spec
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Load(t.Context()); err == nil {
			t.Errorf("Load(%q) succeeded", spec)
		}
		s.Close()
	}
}

func TestModels(t *testing.T) {
	ts := newTestServer(t, nil, false)
	resp, body := do(t, ts.http.Client(), "GET", ts.http.URL+"/v1/models", "", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var list ModelList
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		t.Fatal(err)
	}
	want, _ := vision.Preset("tiny")
	if len(list.Data) != 1 || list.Data[0].ID != "random:tiny" || list.Data[0].Config.Depth != want.Depth ||
		list.Data[0].Config.OutHiddenSize != want.OutHiddenSize || !slices.Equal(list.Data[0].Config.DeepstackVisualIndexes, want.DeepstackVisualIndexes) {
		t.Errorf("models: %+v", list)
	}
	m := list.Data[0]
	if m.Preprocessor.MinPixels != 4096 || m.Preprocessor.MaxPixels != 65536 || m.Limits.MaxPixels != 65536 || m.Limits.MaxImages != DefaultMaxImages {
		t.Errorf("preprocessor %+v limits %+v", m.Preprocessor, m.Limits)
	}
}

// TestEncodeInputsAndFormats sends the same images in every input form and checks every
// response bitwise against a lone Encode.
func TestEncodeInputsAndFormats(t *testing.T) {
	ts := newTestServer(t, nil, false)
	c, url := ts.http.Client(), ts.http.URL+"/v1/encode"
	a, b := pngImage(t, 100, 60, 1), pngImage(t, 37, 81, 2)
	want := expected(t, ts.Server, a, b)
	wantA := expected(t, ts.Server, a)

	checkJSON := func(name string, body []byte, lastHidden bool, imgs int) {
		t.Helper()
		r := decodeJSONResponse(t, body)
		if r.Model != "random:tiny" || len(r.Images) != imgs {
			t.Fatalf("%s: model %q, %d images", name, r.Model, len(r.Images))
		}
		w := want
		if imgs == 1 {
			w = wantA
		}
		t0, p0 := 0, 0
		for i, im := range r.Images {
			g := w.Grids[i]
			if im.Index != i || im.GridTHW != [3]int{g.T, g.H, g.W} || im.Patches != g.Patches() || im.Tokens != g.Patches()/4 {
				t.Errorf("%s image %d: %+v, grid %v", name, i, im, g)
			}
			if im.Shapes.PoolerOutput != [2]int{im.Tokens, 96} || len(im.Shapes.DeepstackFeatures) != 2 || im.Shapes.LastHiddenState != [2]int{im.Patches, 64} {
				t.Errorf("%s image %d shapes %+v", name, i, im.Shapes)
			}
			if im.ResizedWidth != g.W*16 || im.ResizedHeight != g.H*16 {
				t.Errorf("%s image %d resized %dx%d", name, i, im.ResizedWidth, im.ResizedHeight)
			}
			if len(im.PoolerOutput) != im.Tokens || len(im.DeepstackFeatures) != 2 {
				t.Fatalf("%s image %d: %d pooler rows, %d deepstack", name, i, len(im.PoolerOutput), len(im.DeepstackFeatures))
			}
			sameRows(t, name+" pooler_output", im.PoolerOutput, w.Pooler, t0)
			for k := range im.DeepstackFeatures {
				sameRows(t, name+" deepstack", im.DeepstackFeatures[k], w.Deepstack[k], t0)
			}
			if lastHidden {
				if len(im.LastHiddenState) != im.Patches {
					t.Fatalf("%s: %d last_hidden_state rows", name, len(im.LastHiddenState))
				}
				sameRows(t, name+" last_hidden_state", im.LastHiddenState, w.LastHidden, p0)
			} else if im.LastHiddenState != nil {
				t.Errorf("%s: last_hidden_state without include", name)
			}
			t0 += im.Tokens
			p0 += im.Patches
		}
		if r.Usage != (Usage{Images: imgs, Patches: p0, Tokens: t0}) {
			t.Errorf("%s usage %+v", name, r.Usage)
		}
	}

	// Multipart, two images, JSON out.
	ct, mp := multipartBody(t, nil, a, b)
	resp, body := do(t, c, "POST", url, ct, mp, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("multipart: %d %s %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	checkJSON("multipart", body, false, 2)

	// Multipart with include as a form field.
	ct, mp = multipartBody(t, map[string]string{"include": "last_hidden_state"}, a, b)
	resp, body = do(t, c, "POST", url, ct, mp, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("multipart include: %d %.300s", resp.StatusCode, body)
	}
	checkJSON("multipart+include", body, true, 2)

	// Raw body, with include in the query.
	resp, body = do(t, c, "POST", url+"?include=last_hidden_state", "image/png", a, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("raw: %d %.300s", resp.StatusCode, body)
	}
	checkJSON("raw", body, true, 1)

	// JSON body, standard and URL-safe base64 and a data: URL.
	js := fmt.Sprintf(`{"images": [{"data": %q}, {"data": %q}]}`, base64.StdEncoding.EncodeToString(a), "data:image/png;base64,"+base64.RawURLEncoding.EncodeToString(b))
	resp, body = do(t, c, "POST", url, "application/json", []byte(js), map[string]string{"Accept": "application/json"})
	if resp.StatusCode != 200 {
		t.Fatalf("json: %d %.300s", resp.StatusCode, body)
	}
	checkJSON("json", body, false, 2)

	// Safetensors out: the encode contract, bitwise.
	ct, mp = multipartBody(t, nil, a, b)
	resp, body = do(t, c, "POST", url, ct, mp, map[string]string{"Accept": "application/octet-stream"})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("safetensors: %d %s %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	tensors, names, meta := parseSafetensors(t, body)
	wantNames := []string{"pooler_output", "deepstack_features.0", "deepstack_features.1", "last_hidden_state", "grid_thw"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("tensors %v, want %v", names, wantNames)
	}
	if meta["format"] != "pt" || meta["producer"] != "qwen3vl" {
		t.Errorf("metadata %v", meta)
	}
	for name, m := range map[string]vision.Matrix{"pooler_output": want.Pooler, "deepstack_features.0": want.Deepstack[0], "deepstack_features.1": want.Deepstack[1], "last_hidden_state": want.LastHidden} {
		got := tensors[name]
		if got.dtype != "F32" || !slices.Equal(got.shape, []int{m.Rows, m.Cols}) {
			t.Errorf("%s: %s %v, want F32 [%d %d]", name, got.dtype, got.shape, m.Rows, m.Cols)
			continue
		}
		if !bitsEqual(got.f32(), m.Data) {
			t.Errorf("%s differs from a lone Encode", name)
		}
	}
	g := tensors["grid_thw"]
	if g.dtype != "I64" || !slices.Equal(g.shape, []int{2, 3}) {
		t.Errorf("grid_thw %s %v", g.dtype, g.shape)
	}

	// Narrower budget by query parameter: the image shrinks.
	resp, body = do(t, c, "POST", url+"?max_pixels=2048&min_pixels=1024", "image/png", a, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("max_pixels: %d %.300s", resp.StatusCode, body)
	}
	if r := decodeJSONResponse(t, body); r.Images[0].ResizedWidth*r.Images[0].ResizedHeight > 2048 {
		t.Errorf("max_pixels=2048 gave %dx%d", r.Images[0].ResizedWidth, r.Images[0].ResizedHeight)
	}
	// Only max_pixels, below the default min_pixels: min follows it down.
	resp, body = do(t, c, "POST", url, "application/json", fmt.Appendf(nil, `{"images":[{"data":%q}],"max_pixels":2048}`, base64.StdEncoding.EncodeToString(a)), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("json max_pixels: %d %.300s", resp.StatusCode, body)
	}
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}

// TestErrors checks every error status with its JSON body.
func TestErrors(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.MaxBody = 200 << 10
		c.MaxImages = 3
		c.MaxDecodePixels = 300 * 300
	}, false)
	c, base := ts.http.Client(), ts.http.URL
	url := base + "/v1/encode"
	img := pngImage(t, 50, 40, 3)
	b64 := base64.StdEncoding.EncodeToString(img)
	mpCT, mp := multipartBody(t, nil, img)
	_, tooMany := multipartBody(t, nil, img, img, img, img)
	tooManyCT, _ := multipartBody(t, nil)
	_ = tooManyCT
	big := pngImage(t, 400, 300, 4) // over MaxDecodePixels
	thin := pngImage(t, 1, 250, 5)  // aspect ratio 250
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(i * 7)
	}

	type tc struct {
		name, method, path, ct string
		body                   []byte
		header                 map[string]string
		status                 int
		code                   string
	}
	mpWith := func(fields map[string]string, images ...[]byte) (string, []byte) {
		return multipartBody(t, fields, images...)
	}
	ctTooMany, bodyTooMany := mpWith(nil, img, img, img, img)
	_ = tooMany
	ctNone, bodyNone := mpWith(map[string]string{"min_pixels": "4096"})
	ctBadField, bodyBadField := mpWith(map[string]string{"colour": "red"}, img)
	ctBig, bodyBig := mpWith(nil, img, big)
	cases := []tc{
		{"unknown route", "GET", "/v2/encode", "", nil, nil, 404, CodeNotFound},
		{"a path beside the page", "GET", "/index.html", "", nil, nil, 404, CodeNotFound},
		{"GET encode", "GET", "/v1/encode", "", nil, nil, 405, CodeMethodNotAllowed},
		{"POST healthz", "POST", "/healthz", "", nil, nil, 405, CodeMethodNotAllowed},
		{"DELETE models", "DELETE", "/v1/models", "", nil, nil, 405, CodeMethodNotAllowed},
		{"PUT metrics", "PUT", "/metrics", "", nil, nil, 405, CodeMethodNotAllowed},
		{"bad image", "POST", "/v1/encode", "image/png", []byte("not a png at all"), nil, 400, CodeInvalidImage},
		{"truncated png", "POST", "/v1/encode", "image/png", img[:len(img)/2], nil, 400, CodeInvalidImage},
		{"empty raw body", "POST", "/v1/encode", "image/jpeg", nil, nil, 400, CodeInvalidRequest},
		{"malformed json", "POST", "/v1/encode", "application/json", []byte(`{"images": [`), nil, 400, CodeInvalidJSON},
		{"json wrong type", "POST", "/v1/encode", "application/json", []byte(`{"images": "x"}`), nil, 400, CodeInvalidJSON},
		{"json unknown field", "POST", "/v1/encode", "application/json", []byte(`{"imgs": []}`), nil, 400, CodeInvalidJSON},
		{"json trailing data", "POST", "/v1/encode", "application/json", []byte(`{"images": []} {}`), nil, 400, CodeInvalidJSON},
		{"json no data", "POST", "/v1/encode", "application/json", []byte(`{"images": [{}]}`), nil, 400, CodeInvalidJSON},
		{"json bad base64", "POST", "/v1/encode", "application/json", []byte(`{"images": [{"data": "!!!"}]}`), nil, 400, CodeInvalidImage},
		{"json url", "POST", "/v1/encode", "application/json", []byte(`{"images": [{"url": "http://169.254.169.254/"}]}`), nil, 400, CodeURLNotSupported},
		{"json image_url", "POST", "/v1/encode", "application/json", []byte(`{"images": [{"image_url": {"url": "http://x/"}}]}`), nil, 400, CodeURLNotSupported},
		{"json no images", "POST", "/v1/encode", "application/json", []byte(`{"images": []}`), nil, 400, CodeInvalidRequest},
		{"json min_pixels twice", "POST", "/v1/encode?min_pixels=4096", "application/json", fmt.Appendf(nil, `{"images": [{"data": %q}], "min_pixels": 4096}`, b64), nil, 400, CodeInvalidParameter},
		{"json bad include", "POST", "/v1/encode", "application/json", fmt.Appendf(nil, `{"images": [{"data": %q}], "include": ["pixels"]}`, b64), nil, 400, CodeInvalidParameter},
		{"multipart no images", "POST", "/v1/encode", ctNone, bodyNone, nil, 400, CodeInvalidRequest},
		{"multipart unknown field", "POST", "/v1/encode", ctBadField, bodyBadField, nil, 400, CodeInvalidParameter},
		{"multipart no boundary", "POST", "/v1/encode", "multipart/form-data", mp, nil, 400, CodeInvalidRequest},
		{"multipart wrong boundary", "POST", "/v1/encode", "multipart/form-data; boundary=zzz", mp, nil, 400, CodeInvalidRequest},
		{"min_pixels not a number", "POST", "/v1/encode?min_pixels=abc", mpCT, mp, nil, 400, CodeInvalidParameter},
		{"min_pixels zero", "POST", "/v1/encode?min_pixels=0", mpCT, mp, nil, 400, CodeInvalidParameter},
		{"min above max", "POST", "/v1/encode?min_pixels=9000&max_pixels=8192", mpCT, mp, nil, 400, CodeInvalidParameter},
		{"max_pixels over the limit", "POST", "/v1/encode?max_pixels=1000000", mpCT, mp, nil, 400, CodeInvalidParameter},
		{"max_pixels below one token", "POST", "/v1/encode?max_pixels=100", mpCT, mp, nil, 400, CodeInvalidParameter},
		{"unknown query parameter", "POST", "/v1/encode?maxpixels=5", mpCT, mp, nil, 400, CodeInvalidParameter},
		{"repeated query parameter", "POST", "/v1/encode?include=last_hidden_state&include=last_hidden_state", mpCT, mp, nil, 400, CodeInvalidParameter},
		{"bad include", "POST", "/v1/encode?include=everything", mpCT, mp, nil, 400, CodeInvalidParameter},
		{"bad format", "POST", "/v1/encode?format=torch", mpCT, mp, nil, 400, CodeInvalidParameter},
		{"format=vllm with include", "POST", "/v1/encode?format=vllm&include=last_hidden_state", mpCT, mp, nil, 400, CodeInvalidParameter},
		{"format=vllm with include in the body", "POST", "/v1/encode?format=vllm", "application/json", fmt.Appendf(nil, `{"images": [{"data": %q}], "include": ["last_hidden_state"]}`, b64), nil, 400, CodeInvalidParameter},
		{"format=vllm to safetensors", "POST", "/v1/encode?format=vllm", mpCT, mp, map[string]string{"Accept": "application/octet-stream"}, 406, CodeNotAcceptable},
		{"not acceptable", "POST", "/v1/encode", mpCT, mp, map[string]string{"Accept": "text/html"}, 406, CodeNotAcceptable},
		{"body too large (Content-Length)", "POST", "/v1/encode", "image/png", random, nil, 413, CodeBodyTooLarge},
		{"body too large (chunked)", "POST", "/v1/encode", "image/png", random, map[string]string{"chunked": "1"}, 413, CodeBodyTooLarge},
		{"multipart too large", "POST", "/v1/encode", "multipart/form-data; boundary=x", append([]byte("--x\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a\"\r\n\r\n"), random...), map[string]string{"chunked": "1"}, 413, CodeBodyTooLarge},
		{"json too large", "POST", "/v1/encode", "application/json", append([]byte(`{"images":[{"data":"`), bytes.Repeat([]byte("A"), 300<<10)...), map[string]string{"chunked": "1"}, 413, CodeBodyTooLarge},
		{"too many images", "POST", "/v1/encode", ctTooMany, bodyTooMany, nil, 413, CodeTooManyImages},
		{"too many json images", "POST", "/v1/encode", "application/json", fmt.Appendf(nil, `{"images":[{"data":%q},{"data":%q},{"data":%q},{"data":%q}]}`, b64, b64, b64, b64), nil, 413, CodeTooManyImages},
		{"text/plain", "POST", "/v1/encode", "text/plain", img, nil, 415, CodeUnsupportedMediaType},
		{"no content type", "POST", "/v1/encode", "", img, nil, 415, CodeUnsupportedMediaType},
		{"form-urlencoded", "POST", "/v1/encode", "application/x-www-form-urlencoded", []byte("a=b"), nil, 415, CodeUnsupportedMediaType},
		{"malformed content type", "POST", "/v1/encode", "image/png; =", img, nil, 415, CodeUnsupportedMediaType},
		{"too many pixels", "POST", "/v1/encode", "image/png", big, nil, 422, CodeImageTooLarge},
		{"too many pixels in multipart", "POST", "/v1/encode", ctBig, bodyBig, nil, 422, CodeImageTooLarge},
		{"aspect ratio", "POST", "/v1/encode", "image/png", thin, nil, 422, CodeAspectRatio},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(tc.body)
			if tc.header["chunked"] != "" {
				body = io.MultiReader(bytes.NewReader(tc.body)) // unknown length: chunked
			}
			req, err := http.NewRequest(tc.method, base+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			for k, v := range tc.header {
				if k != "chunked" {
					req.Header.Set(k, v)
				}
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			wantError(t, resp, b, tc.status, tc.code)
			if tc.status == 405 && resp.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
	_ = url

	// The server still works, and the errors are counted by route and status.
	resp, body := do(t, c, "POST", url, "image/png", img, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("after the errors: %d %s", resp.StatusCode, body)
	}
	m := metricsText(t, ts.Server)
	for _, want := range []string{
		`qwen3vl_http_requests_total{route="/v1/encode",code="200"} 1`,
		`qwen3vl_http_requests_total{route="/v1/encode",code="413"} 6`,
		`qwen3vl_http_requests_total{route="other",code="404"} 2`,
		`qwen3vl_http_requests_total{route="/v1/encode",code="422"} 3`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestMetricsFormat checks the exposition format line by line and the main series.
func TestMetricsFormat(t *testing.T) {
	ts := newTestServer(t, nil, false)
	resp, body := do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "image/png", pngImage(t, 64, 64, 1), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, body = do(t, ts.http.Client(), "GET", ts.http.URL+"/metrics", "", nil, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	text := string(body)
	sample := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? [-+0-9.eEInfa]+$`)
	typed := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			f := strings.Fields(rest)
			if _, dup := typed[f[0]]; dup {
				t.Errorf("TYPE %s twice", f[0])
			}
			typed[f[0]] = f[1]
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		if !sample.MatchString(line) {
			t.Errorf("malformed line %q", line)
		}
	}
	for name, typ := range map[string]string{
		"qwen3vl_http_requests_total": "counter", "qwen3vl_queue_depth": "gauge", "qwen3vl_batch_requests": "histogram",
		"qwen3vl_encode_duration_seconds": "histogram", "qwen3vl_patches_total": "counter", "qwen3vl_requests_in_flight": "gauge",
	} {
		if typed[name] != typ {
			t.Errorf("%s: type %q, want %s", name, typed[name], typ)
		}
	}
	if v := metricValue(t, text, "qwen3vl_patches_total"); v != 16 {
		t.Errorf("patches_total %v, want 16", v)
	}
	if v := metricValue(t, text, `qwen3vl_batch_requests_bucket{le="1"}`); v != 1 {
		t.Errorf("batch_requests le=1: %v", v)
	}
	if v := metricValue(t, text, `qwen3vl_http_requests_total{route="/v1/encode",code="200"}`); v != 1 {
		t.Errorf("requests_total: %v", v)
	}
}

// TestRequestLog checks the one structured line per request.
func TestRequestLog(t *testing.T) {
	var buf syncBuffer
	ts := newTestServer(t, func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) }, false)
	do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "image/png", pngImage(t, 64, 64, 1), nil)
	do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "text/plain", nil, nil)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d request lines:\n%s", len(lines), buf.String())
	}
	ok := lines[0]
	if ok["method"] != "POST" || ok["path"] != "/v1/encode" || ok["status"] != 200.0 || ok["images"] != 1.0 || ok["patches"] != 16.0 || ok["duration_ms"] == nil {
		t.Errorf("log line %v", ok)
	}
	if bad := lines[1]; bad["status"] != 415.0 || bad["error"] != CodeUnsupportedMediaType {
		t.Errorf("log line %v", bad)
	}
}

// TestLoadCheckpoint loads a checkpoint folder (through the pipeline) with its
// preprocessor_config.json, whose budget becomes the server's default.
func TestLoadCheckpoint(t *testing.T) {
	dir := t.TempDir()
	src := "../testdata/golden/tiny-checkpoint"
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Skipf("no checkpoint fixture: %v", err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pre := `{"image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "merge_size": 2, "patch_size": 16,
		"temporal_patch_size": 2, "size": {"longest_edge": 131072, "shortest_edge": 8192}}`
	if err := os.WriteFile(filepath.Join(dir, "preprocessor_config.json"), []byte(pre), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Model, cfg.ModelID = dir, "Org/Tiny"
	cfg.MinPixels, cfg.MaxPixels = 0, 0
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/models", nil))
	var list ModelList
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if m := list.Data[0]; m.ID != "Org/Tiny" || m.Preprocessor.MinPixels != 8192 || m.Preprocessor.MaxPixels != 131072 || m.Limits.MaxPixels != 131072 {
		t.Errorf("%+v", m)
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, newRequestBody("POST", "/v1/encode", "image/png", pngImage(t, 20, 20, 1)))
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if r := decodeJSONResponse(t, rec.Body.Bytes()); r.Images[0].ResizedWidth*r.Images[0].ResizedHeight < 8192 {
		t.Errorf("the checkpoint's min_pixels was not applied: %+v", r.Images[0])
	}
}
