//go:build unix

package vision

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
	"github.com/qwen3vl/qwen3vl/internal/synth"
)

// processCPU returns the CPU time (user + system) this process has used so far, or 0 if unknown.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEncode runs one full Encode of a synthetic tower on the seed image's grid (1, 18, 24):
// 432 patches. It reports GFLOP/s by wall time (FLOPs counts the matrix products and attention)
// and "GFLOP/s-cpu", the same work per CPU-second of this process times the model's threads, which
// is what the goroutines reached while they actually ran: on a loaded, shared machine the wall
// figure falls with the other processes' load and the CPU figure much less. Profile it with
//
//	go test ./vision/ -run '^$' -bench Encode -benchtime 3x -cpuprofile cpu.out
func BenchmarkEncode(b *testing.B) {
	benchmarkEncode(b, []benchCase{{"qwen3-vl-4b", Grid{1, 18, 24}, ComputeF32}, {"qwen3-vl-8b", Grid{1, 18, 24}, ComputeF32}})
}

// BenchmarkEncodeBF16 is BenchmarkEncode with ComputeBF16 (skipped where the CPU lacks it).
func BenchmarkEncodeBF16(b *testing.B) {
	if !kernels.BF16Dot() {
		b.Skipf("no bf16 dot-product assembly here (bf16: %s)", kernels.BF16())
	}
	benchmarkEncode(b, []benchCase{{"qwen3-vl-4b", Grid{1, 18, 24}, ComputeBF16}, {"qwen3-vl-8b", Grid{1, 18, 24}, ComputeBF16}})
}

// BenchmarkBigImage is BenchmarkEncode on a 1365×2048 image for the 8B tower: grid (1, 86, 128),
// 11,008 patches in one segment, 25 TFLOP of which 15 in attention; one encode takes
// minutes. Run it with -bench BigImage -benchtime 1x.
func BenchmarkBigImage(b *testing.B) {
	benchmarkEncode(b, []benchCase{{"qwen3-vl-8b", Grid{1, 86, 128}, ComputeF32}})
}

type benchCase struct {
	preset  string
	grid    Grid
	compute Compute
}

func benchmarkEncode(b *testing.B, cases []benchCase) {
	for _, c := range cases {
		b.Run(fmt.Sprintf("%s/%dx%dx%d", c.preset, c.grid.T, c.grid.H, c.grid.W), func(b *testing.B) {
			cfg, err := Preset(c.preset)
			if err != nil {
				b.Fatal(err)
			}
			m, err := Random(cfg, 1, Options{Compute: c.compute})
			if err != nil {
				b.Fatal(err)
			}
			grids := []Grid{c.grid}
			px := make([]float32, c.grid.T*c.grid.H*c.grid.W*cfg.PatchDim())
			synth.Fill(px, 2, "pixel_values", 1, 0)
			ctx := context.Background()
			if c.grid.H*c.grid.W <= 4096 {
				if _, err := m.Encode(ctx, px, grids); err != nil { // warm up
					b.Fatal(err)
				}
			}
			cpu0 := processCPU()
			for b.Loop() {
				if _, err := m.Encode(ctx, px, grids); err != nil {
					b.Fatal(err)
				}
			}
			cpu := processCPU() - cpu0
			flop := float64(FLOPs(cfg, grids)) * float64(b.N)
			b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu > 0 {
				b.ReportMetric(flop/cpu.Seconds()/1e9*float64(m.Threads()), "GFLOP/s-cpu")
				b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			}
		})
	}
}
