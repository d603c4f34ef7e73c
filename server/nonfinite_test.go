package server

import (
	"context"
	"math"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/vision"
)

// TestNonFiniteOutputsCounted: the non-finite outputs an encode reports (vision.Output.NonFinite)
// are counted in /metrics, and such values are null in the JSON response.
func TestNonFiniteOutputsCounted(t *testing.T) {
	s, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	s.wrapEncode = func(next encodeFunc) encodeFunc {
		return func(ctx context.Context, pixels []float32, grids []vision.Grid) (*vision.Output, error) {
			out, err := next(ctx, pixels, grids)
			if err == nil && grids[0] != calibrationGrid {
				out.Pooler.Data[0], out.Pooler.Data[1] = float32(math.NaN()), float32(math.Inf(1))
				out.NonFinite += 2
			}
			return out, err
		}
	}
	ts := &testServer{Server: s}
	if err := s.SetModel(tiny(t), imageproc.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	ts.http = httptest.NewServer(s)
	defer func() { ts.http.Close(); s.Close() }()
	resp, body := do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "image/png", pngImage(t, 32, 32, 1), nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"pooler_output":[[null,null,`) {
		t.Fatalf("%d %.200s", resp.StatusCode, body)
	}
	_, body = do(t, ts.http.Client(), "GET", ts.http.URL+"/metrics", "", nil, nil)
	if !strings.Contains(string(body), "\nqwen3vl_nonfinite_values_total 2\n") {
		t.Errorf("metrics lack the count:\n%s", body)
	}
}
