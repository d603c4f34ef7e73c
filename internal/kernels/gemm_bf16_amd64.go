//go:build amd64 && !purego

package kernels

import "unsafe"

// gemmBF16Tile is gemmBF16TileGo in assembly (gemm_bf16_amd64.s): an 8×32 VDPBF16PS
// micro-kernel. Call it only where BF16().AVX512BF16.
//
//go:noescape
func gemmBF16Tile(a *uint32, b *uint16, c *float32, ldc, kp int, bias *float32, add int, scale *float32)

// gemmBF16Tile4 is gemmBF16Tile4Go in assembly (gemm_bf16_amd64.s): rows 0–3 of the 8×32
// tile. Call it only where BF16().AVX512BF16.
//
//go:noescape
func gemmBF16Tile4(a *uint32, b *uint16, c *float32, ldc, kp int, bias *float32, add int)

// epilogueArgs are the assembly's bias pointer (nil: none; else 32 floats) and add flag.
func epilogueArgs(bias []float32, add bool) (*float32, int) {
	var pb *float32
	if bias != nil {
		pb = &bias[:bf16NR][0]
	}
	if add {
		return pb, 1
	}
	return pb, 0
}

// bf16TileAsm is the assembly tile with gemmBF16TileGo's signature, or nil where the CPU lacks
// AVX512_BF16.
var bf16TileAsm = func() bf16Tile {
	if !bf16Features.AVX512BF16 {
		return nil
	}
	return func(a []uint32, b []uint16, c []float32, ldc, kp int, bias []float32, add bool, scale []float32) {
		if kp == 0 {
			gemmBF16TileGo(a, b, c, ldc, kp, bias, add, scale)
			return
		}
		_, _ = a[bf16MR*kp-1], b[bf16NR*2*kp-1]
		_ = c[(bf16MR-1)*ldc+bf16NR-1]
		pb, addFlag := epilogueArgs(bias, add)
		var ps *float32
		if scale != nil {
			ps = &scale[:bf16MR][0]
		}
		gemmBF16Tile(unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc, kp, pb, addFlag, ps)
	}
}()

// bf16Tile4Asm is the four-row assembly tile with gemmBF16Tile4Go's signature, or nil where
// the CPU lacks AVX512_BF16.
var bf16Tile4Asm = func() bf16Tile4 {
	if !bf16Features.AVX512BF16 {
		return nil
	}
	return func(a []uint32, b []uint16, c []float32, ldc, kp int, bias []float32, add bool) {
		if kp == 0 {
			gemmBF16Tile4Go(a, b, c, ldc, kp, bias, add)
			return
		}
		_, _ = a[bf16MR*kp-1], b[bf16NR*2*kp-1]
		_ = c[3*ldc+bf16NR-1]
		pb, addFlag := epilogueArgs(bias, add)
		gemmBF16Tile4(unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc, kp, pb, addFlag)
	}
}()

// packBF16Block8 packs chunks × 8 k-pairs of one full 8-row activation block (row r at x + r ·
// stride bytes) into dst (pack_bf16_amd64.s). Call it only where BF16().AVX512BF16.
//
//go:noescape
func packBF16Block8(dst *uint32, x *float32, stride, chunks int)

// bf16PackAsm packs the first 16·chunks columns of 8 rows of x (ld floats apart) into block, as
// packBF16Rows does, or is nil where the CPU lacks AVX512_BF16.
var bf16PackAsm = func() bf16Pack {
	if !bf16Features.AVX512BF16 {
		return nil
	}
	return func(block []uint32, x []float32, ld, chunks int) {
		if chunks == 0 {
			return
		}
		_, _ = block[chunks*8*bf16MR-1], x[(bf16MR-1)*ld+16*chunks-1]
		packBF16Block8(unsafe.SliceData(block), unsafe.SliceData(x), 4*ld, chunks)
	}
}()

// packBF16Row16 packs chunks × 16 floats of one row x into chunks × 8 pairs of dst
// (packBF16Row's layout; pack_bf16_amd64.s). Call it only where BF16().AVX512BF16.
//
//go:noescape
func packBF16Row16(dst *uint32, x *float32, chunks int)

// bf16RowPackAsm is packBF16Row16 for the first 16·chunks floats of x, or nil where the CPU
// lacks AVX512_BF16.
var bf16RowPackAsm = func() bf16RowPack {
	if !bf16Features.AVX512BF16 {
		return nil
	}
	return func(dst []uint32, x []float32, chunks int) {
		if chunks == 0 {
			return
		}
		_, _ = dst[8*chunks-1], x[16*chunks-1]
		packBF16Row16(unsafe.SliceData(dst), unsafe.SliceData(x), chunks)
	}
}()

// packBF16KeyPairs packs n columns (a multiple of 16) of rows r0, r1 as bf16 pairs:
// dst[c] = (r0[c], r1[c]) (pack_bf16_amd64.s). Call it only where BF16().AVX512BF16.
//
//go:noescape
func packBF16KeyPairs(dst *uint32, r0, r1 *float32, n int)

// bf16PairsAsm is packBF16KeyPairs for the leading multiple of 16 of len(dst) columns, or nil
// where the CPU lacks AVX512_BF16; it returns the number of columns packed.
var bf16PairsAsm = func() bf16Pairs {
	if !bf16Features.AVX512BF16 {
		return nil
	}
	return func(dst []uint32, r0, r1 []float32) int {
		n := len(dst) &^ 15
		if n == 0 {
			return 0
		}
		_, _ = r0[n-1], r1[n-1]
		packBF16KeyPairs(unsafe.SliceData(dst), unsafe.SliceData(r0), unsafe.SliceData(r1), n)
		return n
	}
}()

// gemvBF16Dot is gemvBF16DotGo in assembly (gemm_bf16_amd64.s): row 0 of gemmBF16Tile. Call
// it only where BF16().AVX512BF16.
//
//go:noescape
func gemvBF16Dot(a *uint32, b *uint16, c *float32, kp int, bias *float32, add int)

// bf16GemvAsm is the assembly with gemvBF16DotGo's signature, or nil where the CPU lacks
// AVX512_BF16.
var bf16GemvAsm = func() bf16Gemv {
	if !bf16Features.AVX512BF16 {
		return nil
	}
	return func(a []uint32, b []uint16, c []float32, kp int, bias []float32, add bool) {
		if kp == 0 {
			gemvBF16DotGo(a, b, c, kp, bias, add)
			return
		}
		_, _, _ = a[kp-1], b[bf16NR*2*kp-1], c[bf16NR-1]
		pb, addFlag := epilogueArgs(bias, add)
		gemvBF16Dot(unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), kp, pb, addFlag)
	}
}()

// gemvBF16Dot4 is gemvBF16Dot on four consecutive full weight panels (gemm_bf16_amd64.s). Call
// it only where BF16().AVX512BF16.
//
//go:noescape
func gemvBF16Dot4(a *uint32, b *uint16, c *float32, kp int, bias *float32, add int)

// bf16Gemv4Asm is gemvBF16Dot4 with gemvBF16DotGo's arguments for four panels (b 4·64·kp
// uint16, c and bias 128 floats), or nil where the CPU lacks AVX512_BF16.
var bf16Gemv4Asm = func() bf16Gemv {
	if !bf16Features.AVX512BF16 {
		return nil
	}
	return func(a []uint32, b []uint16, c []float32, kp int, bias []float32, add bool) {
		if kp == 0 {
			gemv4BF16DotGo(a, b, c, kp, bias, add)
			return
		}
		_, _, _ = a[kp-1], b[4*bf16NR*2*kp-1], c[4*bf16NR-1]
		var pb *float32
		if bias != nil {
			pb = &bias[:4*bf16NR][0]
		}
		addFlag := 0
		if add {
			addFlag = 1
		}
		gemvBF16Dot4(unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), kp, pb, addFlag)
	}
}()
