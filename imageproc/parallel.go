package imageproc

import (
	"runtime"
	"sync"
)

// parallelRows calls fn on disjoint row ranges covering [0, rows), on up to
// GOMAXPROCS goroutines when the work (rows × costPerRow) is large enough to
// pay for them. Results never depend on the split.
func parallelRows(rows, costPerRow int, fn func(y0, y1 int)) {
	const minWork = 1 << 16
	n := runtime.GOMAXPROCS(0)
	if n > rows {
		n = rows
	}
	if n <= 1 || rows*max(costPerRow, 1) < minWork {
		fn(0, rows)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		y0, y1 := rows*i/n, rows*(i+1)/n
		wg.Go(func() { fn(y0, y1) })
	}
	wg.Wait()
}
