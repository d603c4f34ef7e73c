package vision

import (
	"fmt"
	"math"
)

// checkFinite reports the first non-finite (NaN or infinite) value of pixels [N, pd] as an
// error naming the item (by its index in grids), the patch row within the item and the column.
// One pass over the values, on the calling goroutine.
func checkFinite(pixels []float32, pd int, grids []Grid) error {
	for i, v := range pixels {
		if !finite(v) {
			row, col := i/pd, i%pd
			item, first := 0, 0
			for item < len(grids)-1 && row >= first+grids[item].Patches() {
				first += grids[item].Patches()
				item++
			}
			return fmt.Errorf("item %d: patch row %d (row %d of the pixel values), column %d: %v; pixel values must be finite",
				item, row-first, row, col, v)
		}
	}
	return nil
}

// finite reports whether v is neither NaN nor infinite (its exponent bits are not all ones).
func finite(v float32) bool { return math.Float32bits(v)&0x7f800000 != 0x7f800000 }

// countNonFinite counts the NaN and infinite values of the output's matrices.
func (o *Output) countNonFinite() int {
	count := func(x []float32) int {
		c := 0
		for _, v := range x {
			if !finite(v) {
				c++
			}
		}
		return c
	}
	n := count(o.LastHidden.Data) + count(o.Pooler.Data)
	for _, d := range o.Deepstack {
		n += count(d.Data)
	}
	return n
}
