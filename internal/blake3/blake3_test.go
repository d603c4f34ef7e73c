package blake3

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"testing"
)

// input is the official test vectors' input: byte i is i mod 251.
func input(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// TestVectors: the digests of the official test-vector inputs (lengths across block, chunk
// and tree boundaries) equal those of the blake3 package vLLM imports, as
// tools/reference/vllm_ec_check.py recorded them, whole and written in pieces of several sizes.
func TestVectors(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/vllm/ec/hashes.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vectors map[string]string `json:"blake3_vectors"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || len(doc.Vectors) < 20 {
		t.Fatalf("hashes.json: %d vectors, %v", len(doc.Vectors), err)
	}
	for ns, want := range doc.Vectors {
		n, err := strconv.Atoi(ns)
		if err != nil {
			t.Fatal(err)
		}
		b := input(n)
		s := Sum256(b)
		if got := hex.EncodeToString(s[:]); got != want {
			t.Errorf("%d bytes: %s, want %s", n, got, want)
		}
		for _, piece := range []int{1, 7, 64, 65, 1000, 1024, 4096} {
			d := New()
			for i := 0; i < n; i += piece {
				d.Write(b[i:min(n, i+piece)])
			}
			if got := hex.EncodeToString(d.Sum(nil)); got != want {
				t.Errorf("%d bytes in pieces of %d: %s, want %s", n, piece, got, want)
			}
		}
	}
}

// TestEmpty: the empty input's digest as the BLAKE3 specification's test vectors give it.
func TestEmpty(t *testing.T) {
	s := Sum256(nil)
	if got := hex.EncodeToString(s[:]); got != "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262" {
		t.Errorf("empty input: %s", got)
	}
}

// TestSumKeepsState: Sum does not change the running hash, and Reset empties it.
func TestSumKeepsState(t *testing.T) {
	b := input(5000)
	d := New()
	d.Write(b[:3000])
	mid := d.Sum(nil)
	d.Write(b[3000:])
	whole := Sum256(b)
	if got := d.Sum(nil); hex.EncodeToString(got) != hex.EncodeToString(whole[:]) {
		t.Error("Sum in the middle changed the state")
	}
	part := Sum256(b[:3000])
	if hex.EncodeToString(mid) != hex.EncodeToString(part[:]) {
		t.Error("Sum of the first 3000 bytes differs from Sum256 of them")
	}
	d.Reset()
	empty := Sum256(nil)
	if got := d.Sum(nil); hex.EncodeToString(got) != hex.EncodeToString(empty[:]) {
		t.Error("Reset did not empty the hash")
	}
	if d.Size() != 32 || d.BlockSize() != 64 {
		t.Error("sizes")
	}
}
