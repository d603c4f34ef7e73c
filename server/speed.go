package server

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/qwen3vl/qwen3vl/vision"
)

// speedMeter is this instance's encode speed in GFLOP/s (vision.FLOPs per second of Encode),
// which admission by cost divides a request's work by.
//
// It starts from a calibration encode at model load (calibrate) and follows the batches
// encoded since: the FLOPs and seconds of each batch are added to sums that decay with a
// time constant of speedHalfLife of encode time, so the estimate is the throughput of about
// the last minute of work, weighted by work (a large batch counts more than a small one).
type speedMeter struct {
	mu             sync.Mutex
	flops, seconds float64 // decayed sums
}

// speedHalfLife is how much encode time it takes for an observation's weight to halve.
const speedHalfLife = 60 * time.Second

// calibrationGrid is the image of the calibration encode: 8×8 patches (64 patches, 16
// tokens; 42 GFLOP for the 2B/4B tower, a fraction of a second on two cores). A small image
// runs the kernels below their speed on large ones, so the first estimate is on the low
// side: admission errs towards refusing a request that might just have fitted, never towards
// admitting one that cannot, and the batches that follow correct it.
var calibrationGrid = vision.Grid{T: 1, H: 8, W: 8}

// calibrate measures m's speed with one encode of calibrationGrid (zero pixels).
func (s *speedMeter) calibrate(ctx context.Context, m *vision.Model) error {
	cfg := m.Config()
	grids := []vision.Grid{calibrationGrid}
	pixels := make([]float32, calibrationGrid.Patches()*cfg.PatchDim())
	start := time.Now()
	if _, err := m.Encode(ctx, pixels, grids); err != nil {
		return err
	}
	s.observe(vision.FLOPs(cfg, grids), time.Since(start))
	return nil
}

// observe adds one encode of flops that took d.
func (s *speedMeter) observe(flops int64, d time.Duration) {
	if flops <= 0 || d <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := math.Exp2(-d.Seconds() / speedHalfLife.Seconds())
	s.flops = s.flops*keep + float64(flops)
	s.seconds = s.seconds*keep + d.Seconds()
}

// set replaces the estimate (tests).
func (s *speedMeter) set(gflops float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flops, s.seconds = gflops*1e9, 1
}

// gflops returns the estimate, 0 before any observation.
func (s *speedMeter) gflops() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seconds <= 0 {
		return 0
	}
	return s.flops / s.seconds / 1e9
}
