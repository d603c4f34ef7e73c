package server

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
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
	var parts []struct {
		Type   string `json:"type"`
		Embeds struct {
			Data string `json:"image_embeds"`
			Grid [3]int `json:"image_grid_thw"`
		} `json:"image_embeds"`
	}
	if err := json.Unmarshal(body, &parts); err != nil || len(parts) != 2 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	o := want.Pooler.Cols
	width := o * (1 + len(want.Deepstack))
	row := 0
	for i, p := range parts {
		g := want.Grids[i]
		if p.Type != "image_embeds" || p.Embeds.Grid != [3]int{g.T, g.H, g.W} {
			t.Errorf("part %d: type %q grid %v, want %v", i, p.Type, p.Embeds.Grid, g)
		}
		raw, err := base64.StdEncoding.DecodeString(p.Embeds.Data)
		if err != nil {
			t.Fatal(err)
		}
		n := g.Patches() / 4
		hl := int(binary.LittleEndian.Uint16(raw[8:]))
		if h := string(raw[10 : 10+hl]); !strings.Contains(h, fmt.Sprintf("'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d)", n, width)) {
			t.Fatalf("part %d: header %q", i, h)
		}
		data := raw[10+hl:]
		if len(data) != 4*n*width {
			t.Fatalf("part %d: %d bytes of data, want %d", i, len(data), 4*n*width)
		}
		for r := 0; r < n; r++ {
			for c := 0; c < width; c++ {
				src := want.Pooler
				if c >= o {
					src = want.Deepstack[c/o-1]
				}
				w := src.Data[(row+r)*o+c%o]
				if got := math.Float32frombits(binary.LittleEndian.Uint32(data[4*(r*width+c):])); math.Float32bits(got) != math.Float32bits(w) {
					t.Fatalf("part %d row %d col %d = %g, want %g", i, r, c, got, w)
				}
			}
		}
		row += n
	}
}
