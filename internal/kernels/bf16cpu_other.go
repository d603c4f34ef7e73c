//go:build !386 && !amd64

package kernels

// bf16Features: no x86 bfloat16 instructions on this architecture.
var bf16Features = BF16Features{}
