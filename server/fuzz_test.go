package server

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
)

// FuzzEncode sends arbitrary bodies under every content type and checks that the server
// answers each with a non-5xx status and, for errors, a JSON error body.
func FuzzEncode(f *testing.F) {
	img := pngImage(f, 40, 30, 1)
	ct, mp := multipartBody(f, map[string]string{"max_pixels": "8192"}, img)
	f.Add(uint8(0), img, "")
	f.Add(uint8(1), mp[:len(mp)/2], "")
	f.Add(uint8(2), []byte(`{"images":[{"data":"iVBORw0KGgo="}],"min_pixels":-1}`), "include=last_hidden_state")
	f.Add(uint8(2), []byte(`{"images":[{"data":null}]}`), "")
	f.Add(uint8(3), []byte("GIF89a\x01\x00\x01\x00"), "max_pixels=4096")
	f.Add(uint8(0), []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "")
	f.Add(uint8(0), []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), "")

	cfg := testConfig()
	cfg.MaxBody = 1 << 20
	s, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	if err := s.SetModel(tiny(f), testPre()); err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	types := []string{"image/png", ct, "application/json", "image/gif", "multipart/form-data; boundary=x"}

	f.Fuzz(func(t *testing.T, kind uint8, body []byte, query string) {
		req := httptest.NewRequest("POST", "/v1/encode", bytes.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", types[int(kind)%len(types)])
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" {
				t.Fatalf("status %d with body %q", rec.Code, rec.Body)
			}
		}
	})
}
