//go:build amd64 && !purego

package kernels

//go:noescape
func gxBFZ4np(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool)

//go:noescape
func gxBFZ8np(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool)

//go:noescape
func gxBFZ8e(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool)

//go:noescape
func gxBFZ8a2(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool)

//go:noescape
func gxBFZ8a4(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool)

//go:noescape
func gxBFZ8n1(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool, pf *uint16)

//go:noescape
func gxBFZ8n2(k int, x *float32, b *uint16, n int, c, bias *float32, accumulate bool, pf *uint16)

//go:noescape
func gxF32Z4(k int, x *float32, b *float32, n int, c, bias *float32, accumulate bool)

//go:noescape
func gxF32Z8(k int, x *float32, b *float32, n int, c, bias *float32, accumulate bool)

//go:noescape
func gxF32Z8n1(k int, x *float32, b *float32, n int, c, bias *float32, accumulate bool, pf *float32)

//go:noescape
func gxF32Z8n2(k int, x *float32, b *float32, n int, c, bias *float32, accumulate bool, pf *float32)
