package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEncodeVLLM: POST /v1/encode?format=vllm answers a JSON array of vLLM image_embeds parts,
// one per image, each the image's rows [pooler | deepstack 0 | deepstack 1] of a lone Encode
// as base64 .npy, with its grid; the same bytes pipeline.Features.WriteVLLMJSON writes (whose
// layout tools/reference/vllm_embeds_check.py checked with vLLM's decoder).
func TestEncodeVLLM(t *testing.T) {
	ts := newTestServer(t, nil, false)
	c, url := ts.http.Client(), ts.http.URL+"/v1/encode"
	a, b := pngImage(t, 100, 60, 1), pngImage(t, 37, 81, 2)
	want := expected(t, ts.Server, a, b)
	ct, mp := multipartBody(t, nil, a, b)
	resp, body := do(t, c, "POST", url+"?format=vllm", ct, mp, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if lines := strings.Split(string(body), "\n"); len(lines) != 5 || lines[0] != "[" || lines[3] != "]" {
		t.Errorf("want [, a part per line, ] and a newline; got %d lines", len(lines))
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(body, &parts); err != nil || len(parts) != 2 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	row := 0
	for i, p := range parts {
		checkEmbedsPart(t, p, want, i, row)
		row += want.Grids[i].Patches() / 4
	}
}
