package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/half"
)

// bf16Tiles are the tile implementations this machine and build have.
func bf16Tiles() map[string]bf16Tile {
	m := map[string]bf16Tile{"go": gemmBF16TileGo}
	if bf16TileAsm != nil {
		m["avx512bf16"] = bf16TileAsm
	}
	return m
}

// bf16Tile4s are the four-row tiles, by the names of bf16Tiles' implementations.
func bf16Tile4s() map[string]bf16Tile4 {
	m := map[string]bf16Tile4{"go": gemmBF16Tile4Go}
	if bf16Tile4Asm != nil {
		m["avx512bf16"] = bf16Tile4Asm
	}
	return m
}

// bf16Gemv4s are the four-panel one-row kernels, by the names of bf16Tiles' implementations.
func bf16Gemv4s() map[string]bf16Gemv {
	m := map[string]bf16Gemv{"go": gemv4BF16DotGo}
	if bf16Gemv4Asm != nil {
		m["avx512bf16"] = bf16Gemv4Asm
	}
	return m
}

// bf16Gemvs are the one-row kernels, by the names of bf16Tiles' implementations.
func bf16Gemvs() map[string]bf16Gemv {
	m := map[string]bf16Gemv{"go": gemvBF16DotGo}
	if bf16GemvAsm != nil {
		m["avx512bf16"] = bf16GemvAsm
	}
	return m
}

// bf16Operands fills X [m, in] and W [out, in] with values of the kind asked: "normal" (as
// activations and weights), "wide" (exponents over the whole range: overflow, subnormal
// products and sums, ties), "special" (zeros of both signs, subnormals, infinities, NaNs mixed
// in).
func bf16Operands(r *rand.Rand, kind string, m, out, in int) ([]float32, []uint16) {
	x, w := make([]float32, m*in), make([]uint16, out*in)
	for i := range x {
		switch kind {
		case "normal":
			x[i] = float32(r.NormFloat64() * 3)
		case "wide":
			x[i] = f32Input(r, r.IntN(4))
		default:
			x[i] = []float32{0, float32(math.Copysign(0, -1)), 1e-40, -1e-39, float32(math.Inf(1)), float32(math.NaN()), 1, -2.5}[r.IntN(8)]
		}
	}
	for i := range w {
		switch kind {
		case "normal":
			w[i] = half.F32ToBF16(float32(r.NormFloat64() * 0.05))
		case "wide":
			w[i] = bf16Inputs(r, r.IntN(4))
		default:
			w[i] = []uint16{0, 0x8000, 0x0001, 0x8040, 0x7f80, 0xff80, 0x7fc1, 0x3f80, 0xbf00}[r.IntN(9)]
		}
	}
	return x, w
}

// TestGEMMBF16: every tile implementation, through the packing and the edge tiles, gives
// gemmBF16Ref's bits, for shapes with partial blocks, partial panels and odd in.
func TestGEMMBF16(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 5))
	shapes := [][3]int{{1, 1, 1}, {8, 32, 2}, {8, 32, 7}, {9, 33, 3}, {5, 70, 64}, {16, 64, 129}, {23, 100, 31}, {432 / 8, 96, 1024 / 8}, {3, 5, 0}}
	for name, tile := range bf16Tiles() {
		for _, kind := range []string{"normal", "wide", "special"} {
			for _, sh := range shapes {
				m, out, in := sh[0], sh[1], sh[2]
				x, w := bf16Operands(r, kind, m, out, in)
				want := gemmBF16Ref(x, w, m, out, in)
				pw := packBF16Weights(w, out, in)
				a := packBF16Rows(make([]uint32, ((m+7)/8)*8*((in+1)/2)), x, m, in)
				got := make([]float32, m*out)
				for i := range got {
					got[i] = -7 // every element written
				}
				threads := 1 + len(got)%3
				(&bf16DotGEMM{w: pw, tile: tile}).multiply(got, a, m, threads, false, nil)
				bad := 0
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						if bad++; bad <= 3 {
							t.Errorf("%s %s %dx%dx%d: [%d, %d] = %#08x, want %#08x", name, kind, m, out, in, i/out, i%out, math.Float32bits(got[i]), math.Float32bits(want[i]))
						}
					}
				}
			}
		}
	}
	if bf16TileAsm == nil {
		t.Logf("assembly tile not tested: bf16 %s", BF16())
	}
}

// TestGEMMBF16RefSum: on values whose products and sums are exact in float32 (small
// integers), gemmBF16Ref is the plain dot product, so the packing order cannot hide an error.
func TestGEMMBF16RefSum(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 6))
	m, out, in := 3, 4, 9
	x, w := make([]float32, m*in), make([]uint16, out*in)
	xf, wf := make([]float64, m*in), make([]float64, out*in)
	for i := range x {
		v := float64(r.IntN(17) - 8)
		x[i], xf[i] = float32(v), v
	}
	for i := range w {
		v := float64(r.IntN(9) - 4)
		w[i], wf[i] = half.F32ToBF16(float32(v)), v
	}
	got := gemmBF16Ref(x, w, m, out, in)
	for i := range m {
		for n := range out {
			var s float64
			for k := range in {
				s += xf[i*in+k] * wf[n*in+k]
			}
			if float64(got[i*out+n]) != s {
				t.Errorf("[%d, %d] = %v, want %v", i, n, got[i*out+n], s)
			}
		}
	}
}

// BenchmarkGEMMBF16 times the bf16 GEMM (packed operands; packing not timed) on 1 and 2
// threads at the 4B tower's shapes (432 rows: the seed image; hidden 1024, intermediate 4096;
// fused QKV 3072), reporting GFLOP/s and the percentage of PeakBF16GFLOPS on as many threads,
// measured in the same run.
func BenchmarkGEMMBF16(b *testing.B) {
	if bf16TileAsm == nil {
		b.Skipf("no bf16 assembly here (bf16: %s)", BF16())
	}
	var peak [3]float64
	for th := 1; th <= 2; th++ {
		peak[th], _ = PeakBF16GFLOPS(th, 300*time.Millisecond)
	}
	r := rand.New(rand.NewPCG(19, 7))
	for _, sh := range [][3]int{{432, 3072, 1024}, {432, 4096, 1024}, {432, 1024, 4096}, {432, 1024, 1024}} {
		m, out, in := sh[0], sh[1], sh[2]
		x, w := bf16Operands(r, "normal", m, out, in)
		g := &bf16DotGEMM{w: packBF16Weights(w, out, in), tile: bf16TileAsm}
		a := packBF16Rows(make([]uint32, ((m+7)/8)*8*((in+1)/2)), x, m, in)
		dst := make([]float32, m*out)
		for th := 1; th <= 2; th++ {
			b.Run(fmt.Sprintf("%dx%dx%d/threads=%d", m, out, in, th), func(b *testing.B) {
				for b.Loop() {
					g.multiply(dst, a, m, th, false, nil)
				}
				g := bf16GEMMFLOPs(m, out, in) * float64(b.N) / b.Elapsed().Seconds() / 1e9
				b.ReportMetric(g, "GFLOP/s")
				b.ReportMetric(100*g/peak[th], "%peak")
			})
		}
	}
}

// BenchmarkGEMMBF16VsF32 is an A/B on one thread, interleaved in each iteration: the bf16 GEMM
// with its activation packing (packBF16Rows, then gemmBF16) against this machine's float32
// Linear over the same bf16 weights (NewLinearBF16Bits, Forward), at the 4B tower's shapes;
// "x-f32" is how many times faster the bf16 path is.
func BenchmarkGEMMBF16VsF32(b *testing.B) {
	if bf16TileAsm == nil {
		b.Skipf("no bf16 assembly here (bf16: %s)", BF16())
	}
	r := rand.New(rand.NewPCG(19, 8))
	for _, sh := range [][3]int{{432, 3072, 1024}, {432, 4096, 1024}, {432, 1024, 4096}} {
		m, out, in := sh[0], sh[1], sh[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, out, in), func(b *testing.B) {
			x, w := bf16Operands(r, "normal", m, out, in)
			g := &bf16DotGEMM{w: packBF16Weights(w, out, in), tile: bf16TileAsm}
			l, err := NewLinearBF16Bits(w, nil, out, in)
			if err != nil {
				b.Fatal(err)
			}
			a := make([]uint32, ((m+7)/8)*8*((in+1)/2))
			dst := make([]float32, m*out)
			l.Forward(dst, x, m, 1)
			var t16, t32 time.Duration
			for b.Loop() {
				t0 := time.Now()
				g.multiply(dst, packBF16Rows(a, x, m, in), m, 1, false, nil)
				t1 := time.Now()
				l.Forward(dst, x, m, 1)
				t16, t32 = t16+t1.Sub(t0), t32+time.Since(t1)
			}
			flop := bf16GEMMFLOPs(m, out, in) * float64(b.N)
			b.ReportMetric(flop/t16.Seconds()/1e9, "bf16-GFLOP/s")
			b.ReportMetric(flop/t32.Seconds()/1e9, "f32-GFLOP/s")
			b.ReportMetric(t32.Seconds()/t16.Seconds(), "x-f32")
		})
	}
}

// TestPackBF16Row: one row packed for the one-row kernels holds, word for word, row 0 of the
// block packBF16Rows makes of it (each value rounded by RoundBF16NE where the layout says, an
// odd in's last high half zero), by Go and by the assembly where present, around the
// assembly's 16-float chunks.
func TestPackBF16Row(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 10))
	for _, kind := range []string{"normal", "wide", "special"} {
		for _, in := range []int{1, 2, 15, 16, 17, 31, 32, 33, 100, 1024, 1031} {
			x, _ := bf16Operands(r, kind, 1, 1, in)
			kp := (in + 1) / 2
			block := packBF16RowsWith(make([]uint32, 8*kp), x, 1, in, in, nil)
			packs := map[string]bf16RowPack{"go": nil}
			if bf16RowPackAsm != nil {
				packs["asm"] = bf16RowPackAsm
			}
			for name, asm := range packs {
				dst := make([]uint32, kp+1)
				dst[kp] = 0xdeadbeef
				got := packBF16Row(dst, x, in, asm)
				if len(got) != kp || dst[kp] != 0xdeadbeef {
					t.Fatalf("%s %s in %d: %d words written (past the end: %#x), want %d", name, kind, in, len(got), dst[kp], kp)
				}
				for p := range kp {
					if got[p] != block[8*p] {
						t.Fatalf("%s %s in %d: pair %d %#08x, the block's row 0 %#08x", name, kind, in, p, got[p], block[8*p])
					}
				}
			}
		}
	}
}

// TestPackBF16Rows: the assembly packing (where present) gives the Go packing's words, and the
// Go packing puts each rounded value where the layout says, for rows packed (ld = in) and
// rows further apart (ld > in, as AttentionBF16 packs its score tile).
func TestPackBF16Rows(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 9))
	for _, kind := range []string{"normal", "wide", "special"} {
		for _, sh := range [][3]int{{8, 16, 16}, {8, 17, 17}, {16, 48, 48}, {13, 100, 100}, {24, 1024, 1024}, {7, 5, 5}, {8, 32, 256}, {16, 48, 53}, {13, 17, 40}} {
			m, in, ld := sh[0], sh[1], sh[2]
			xs, _ := bf16Operands(r, kind, m, 1, ld)
			x := xs[:(m-1)*ld+in]
			kp := (in + 1) / 2
			n := ((m + 7) / 8) * 8 * kp
			goPack := packBF16RowsWith(make([]uint32, n), x, m, in, ld, nil)
			for i := range m {
				for k := range in {
					word := goPack[(i/8)*8*kp+(k/2)*8+i%8] >> (16 * (k % 2))
					if got, want := uint16(word), RoundBF16NE(x[i*ld+k]); got != want {
						t.Fatalf("%s %dx%d (ld %d): X[%d, %d] packed %#04x, want %#04x", kind, m, in, ld, i, k, got, want)
					}
				}
			}
			if bf16PackAsm == nil {
				continue
			}
			asm := packBF16RowsWith(make([]uint32, n), x, m, in, ld, bf16PackAsm)
			for i := range asm {
				if asm[i] != goPack[i] {
					t.Fatalf("%s %dx%d (ld %d): word %d: assembly %#08x, Go %#08x", kind, m, in, ld, i, asm[i], goPack[i])
				}
			}
		}
	}
}
