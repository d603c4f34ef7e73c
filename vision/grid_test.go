package vision

import (
	"context"
	"math/big"
	"strings"
	"testing"
)

// TestCheckGridsOverflow: grids whose t·h·w, or whose sum, passes maxPatches are refused with
// an error naming the item and the grid, even when the product wraps around int (4096·2²⁶·2²⁶
// = 2⁶⁴ wraps to 0); grids up to the limit are accepted with their exact total.
func TestCheckGridsOverflow(t *testing.T) {
	cfg, _ := Preset("tiny")
	for _, c := range []struct {
		name  string
		grids []Grid
		total int    // when accepted
		want  string // in the error, when refused
	}{
		{"wraps to 0", []Grid{{4096, 1 << 26, 1 << 26}}, 0, "item 0: grid (4096, 67108864, 67108864)"},
		{"wraps to negative", []Grid{{1 << 2, 1 << 30, 1 << 31}}, 0, "item 0"},
		{"wraps to small", []Grid{{1<<32 + 1, 1 << 16, 1 << 16}}, 0, "t·h·w"},
		{"at the limit", []Grid{{1, 1 << 13, 1 << 13}}, 1 << 26, ""},
		{"over by one row", []Grid{{1, 1<<13 + 2, 1 << 13}}, 0, "item 0"},
		{"sum over", []Grid{{1, 1 << 12, 1 << 13}, {1, 1 << 12, 1 << 13}, {1, 2, 2}}, 0, "item 2"},
		{"second wraps", []Grid{{1, 2, 2}, {4096, 1 << 26, 1 << 26}}, 0, "item 1: grid (4096"},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := cfg.checkGrids(c.grids)
			if c.want == "" {
				if err != nil || n != c.total {
					t.Fatalf("checkGrids = %d, %v; want %d", n, err, c.total)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("checkGrids = %d, %v; want an error mentioning %q", n, err, c.want)
			}
		})
	}
}

// TestEncodeOverflowingGrid: Encode refuses a grid whose patch count wraps to 0 (with no pixel
// rows, as a crafted -pixels file can give it) instead of allocating for its h and w.
func TestEncodeOverflowingGrid(t *testing.T) {
	cfg, _ := Preset("tiny")
	m, err := Random(cfg, 1, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Encode(context.Background(), nil, []Grid{{4096, 1 << 26, 1 << 26}})
	if err == nil || !strings.Contains(err.Error(), "grid (4096, 67108864, 67108864)") {
		t.Fatalf("Encode = %v, want an error naming the grid", err)
	}
}

// FuzzCheckGrids checks the grid validation on any three grids: an accepted list has the exact
// total of patches (computed without overflow), at most maxPatches, and every grid is positive
// with h and w multiples of the merge size.
func FuzzCheckGrids(f *testing.F) {
	f.Add(int64(1), int64(4), int64(6), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0))
	f.Add(int64(4096), int64(1<<26), int64(1<<26), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0))
	f.Add(int64(1), int64(2), int64(2), int64(4096), int64(1<<26), int64(1<<26), int64(0), int64(0), int64(0))
	f.Add(int64(4), int64(1<<30), int64(1<<31), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0))
	f.Add(int64(1), int64(1<<13), int64(1<<13), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0))
	f.Add(int64(1), int64(1<<12), int64(1<<13), int64(1), int64(1<<12), int64(1<<13), int64(1), int64(2), int64(2))
	f.Add(int64(-1), int64(-2), int64(2), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0))
	cfg, _ := Preset("tiny")
	f.Fuzz(func(t *testing.T, t0, h0, w0, t1, h1, w1, t2, h2, w2 int64) {
		var grids []Grid
		for _, g := range [][3]int64{{t0, h0, w0}, {t1, h1, w1}, {t2, h2, w2}} {
			if g != [3]int64{} {
				grids = append(grids, Grid{int(g[0]), int(g[1]), int(g[2])})
			}
		}
		n, err := cfg.checkGrids(grids)
		if err != nil {
			return
		}
		exact := new(big.Int)
		for _, g := range grids {
			if g.T < 1 || g.H < 1 || g.W < 1 || g.H%cfg.SpatialMergeSize != 0 || g.W%cfg.SpatialMergeSize != 0 {
				t.Fatalf("checkGrids accepted the grid %v", g)
			}
			p := new(big.Int).Mul(big.NewInt(int64(g.T)), big.NewInt(int64(g.H)))
			exact.Add(exact, p.Mul(p, big.NewInt(int64(g.W))))
		}
		if exact.Cmp(big.NewInt(maxPatches)) > 0 || exact.Cmp(big.NewInt(int64(n))) != 0 {
			t.Fatalf("checkGrids(%v) = %d, exactly %v patches (limit %d)", grids, n, exact, maxPatches)
		}
	})
}
