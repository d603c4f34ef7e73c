// Package synth generates deterministic pseudo-random float32 tensors that the Python reference
// tooling (tools/reference/synth.py) reproduces bit for bit, so that goldens for full-size model
// shapes need only a seed committed, not gigabytes of weights.
//
// The stream for a tensor named name under seed s is splitmix64 started at state
// s XOR fnv1a64(name). Value i (0-based) takes the i+1-th output z and maps it to
//
//	u = float32(int64(z>>40) − 2²³) · 2⁻²³        exactly, u ∈ [−1, 1)
//	v = float32(scale·u) + offset                  two float32 roundings, in that order
//
// Only integer arithmetic and correctly rounded float32 operations are involved, so any IEEE 754
// implementation gives the same bits.
package synth

import (
	"runtime"
	"sync"
)

// FNV1a64 is the 64-bit FNV-1a hash of s.
func FNV1a64(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}

// golden is splitmix64's increment; value i of a stream uses state₀ + (i+1)·golden, so any
// chunk of a stream can be generated independently.
const golden = 0x9e3779b97f4a7c15

// chunk is the number of values one goroutine generates.
const chunk = 1 << 20

// Fill writes len(dst) values of the stream (seed, name) into dst, as scale·u + offset. Large
// tensors are generated in parallel chunks.
func Fill(dst []float32, seed uint64, name string, scale, offset float32) {
	state := seed ^ FNV1a64(name)
	if len(dst) <= chunk {
		fill(dst, state, scale, offset)
		return
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for lo := 0; lo < len(dst); lo += chunk {
		wg.Add(1)
		sem <- struct{}{}
		go func(lo int) {
			defer func() { <-sem; wg.Done() }()
			fill(dst[lo:min(lo+chunk, len(dst))], state+uint64(lo)*golden, scale, offset)
		}(lo)
	}
	wg.Wait()
}

// fill writes the values that follow state into dst.
func fill(dst []float32, state uint64, scale, offset float32) {
	for i := range dst {
		state += golden
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		u := float32(int64(z>>40)-(1<<23)) * (1.0 / (1 << 23))
		v := float32(scale * u)
		dst[i] = v + offset
	}
}
