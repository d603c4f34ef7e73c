package text

import (
	"fmt"
)

// Cache is one sequence's key/value cache: for every layer, the keys and values (after q/k norm
// and the rotary embedding for keys) of the positions run so far, preallocated to a maximum
// length. A Cache belongs to the Model that made it and to one sequence at a time; it is not
// safe for concurrent use.
type Cache struct {
	maxLen, len int
	kvHeads, hd int
	k, v        [][]float32 // per layer [G, maxLen, hd]: kv head g's position j at (g·maxLen + j)·hd
}

// maxCacheValues bounds the float32 values of one Cache (2 · L · G · maxLen · hd): 2³⁶ values
// are 256 GiB, far beyond any machine this runs on, but small enough not to overflow.
const maxCacheValues = 1 << 36

// NewCache returns an empty cache for sequences of up to maxLen tokens (prompt and generated).
func (m *Model) NewCache(maxLen int) (*Cache, error) {
	c := m.cfg
	if maxLen <= 0 {
		return nil, fmt.Errorf("text: cache length %d: must be positive", maxLen)
	}
	perLayer := int64(c.NumKVHeads) * int64(c.HeadDim) * int64(maxLen)
	if maxLen > maxCacheValues || perLayer > maxCacheValues/int64(2*c.NumLayers) {
		return nil, fmt.Errorf("text: cache length %d: %d layers × %d kv heads × %d values is too large", maxLen, c.NumLayers, c.NumKVHeads, c.HeadDim)
	}
	kc := &Cache{maxLen: maxLen, kvHeads: c.NumKVHeads, hd: c.HeadDim}
	kc.k, kc.v = make([][]float32, c.NumLayers), make([][]float32, c.NumLayers)
	for l := range kc.k {
		kc.k[l] = make([]float32, perLayer)
		kc.v[l] = make([]float32, perLayer)
	}
	return kc, nil
}

// Len is the number of positions held: the index the next token will take.
func (c *Cache) Len() int { return c.len }

// Cap is the maximum number of positions.
func (c *Cache) Cap() int { return c.maxLen }

// Reset empties the cache for a new sequence (the memory is kept).
func (c *Cache) Reset() { c.len = 0 }

// Truncate drops the positions from n on (0 ≤ n ≤ Len), so that the sequence continues from n.
func (c *Cache) Truncate(n int) error {
	if n < 0 || n > c.len {
		return fmt.Errorf("text: truncate the cache to %d positions: it holds %d", n, c.len)
	}
	c.len = n
	return nil
}

// store writes the keys and values of n new rows (k, v [n, G·hd], row-major as the projections
// give them) at positions Len() … Len()+n−1 of layer l.
func (c *Cache) store(l int, k, v []float32, n int) {
	for i := 0; i < n; i++ {
		p := c.len + i
		for g := 0; g < c.kvHeads; g++ {
			src := (i*c.kvHeads + g) * c.hd
			dst := (g*c.maxLen + p) * c.hd
			copy(c.k[l][dst:dst+c.hd], k[src:src+c.hd])
			copy(c.v[l][dst:dst+c.hd], v[src:src+c.hd])
		}
	}
}
