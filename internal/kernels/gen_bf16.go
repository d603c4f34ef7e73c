//go:build ignore

// gen_bf16 writes bf16_amd64.h, the AVX-512 BF16 instructions the assembly uses as bytes
// (internal/bf16enc.Forms). Run by `go generate` in internal/kernels.
package main

import (
	"log"
	"os"

	"github.com/qwen3vl/qwen3vl/internal/kernels/internal/bf16enc"
)

func main() {
	h, err := bf16enc.Header(bf16enc.Forms())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("bf16_amd64.h", []byte(h), 0o644); err != nil {
		log.Fatal(err)
	}
}
