package textjoin

import (
	"math/big"
	"strings"
	"testing"
)

// TestExpandOverflowingGrid: a grid whose token count T·(H/m)·(W/m) wraps around int
// (2²⁴·2²³·2²³ = 2⁷⁰ wraps to 0) is refused by Expand, RopeIndex and SplitFeatures with an
// error naming the item and the grid, instead of expanding to an image of 0 pads.
func TestExpandOverflowingGrid(t *testing.T) {
	tok := DefaultTokens()
	for _, g := range []Grid{
		{1 << 24, 1 << 24, 1 << 24},           // wraps to 0
		{1 << 20, 1 << 24, 1<<24 + 2},         // wraps to a positive number
		{1, 1 << 13, 1<<13 + 2},               // just over MaxTokens, no wrap
		{1 << 22, 1 << 40, 1 << 40},           // each factor within int, the product far past it
		{1 << 62, 1 << 1, 1 << 1},             // t alone past MaxTokens
		{3, (1 << 31) + 2, (1 << 32) + 4},     // wraps negative
		{MaxTokens, 2, 2},                     // MaxTokens: accepted (checked below)
		{MaxTokens + 1, 2, 2},                 // one more
		{1, 2 * (1 << 12), 2 * (1 << 12)},     // exactly MaxTokens
		{1, 2*(1<<12) + 2, 2 * (1 << 12)},     // past it
		{2, 2 * (1 << 12), 2 * (1 << 11)},     // exactly MaxTokens
		{1 << 23, 2 * (1 << 1), 2 * (1 << 0)}, // exactly MaxTokens
	} {
		exact := new(big.Int).Mul(big.NewInt(int64(g.T)), big.NewInt(int64(g.H/2)))
		exact.Mul(exact, big.NewInt(int64(g.W/2)))
		fits := exact.Cmp(big.NewInt(MaxTokens)) <= 0
		errCheck := checkGrids([]Grid{g}, nil, 2)
		if fits {
			if errCheck != nil {
				t.Errorf("grid %v (%v tokens): %v", g, exact, errCheck)
			} else if g.Tokens(2) != int(exact.Int64()) {
				t.Errorf("grid %v: Tokens = %d, want %v", g, g.Tokens(2), exact)
			}
			continue
		}
		if errCheck == nil || !strings.Contains(errCheck.Error(), "image 0: grid "+g.String()) {
			t.Errorf("grid %v (%v tokens): checkGrids = %v, want an error naming it", g, exact, errCheck)
		}
		if e, err := Expand("a <image> b", []Grid{g}, nil, tok); err == nil {
			t.Errorf("grid %v (%v tokens): Expand accepted it: %d spans, %d pads", g, exact, len(e.Spans), e.Spans[0].Pads)
		}
		if _, _, err := RopeIndex([]int32{1, tok.VisionStart.ID, tok.ImagePad.ID, tok.VisionEnd.ID}, nil, []Grid{g}, nil, tok); err == nil || !strings.Contains(err.Error(), g.String()) {
			t.Errorf("grid %v: RopeIndex = %v, want an error naming it", g, err)
		}
		if _, _, err := SplitFeatures(Features{Pooler: Matrix{Rows: 0, Cols: 4, Data: nil}}, []Grid{g}, []Kind{KindImage}, 2); err == nil || !strings.Contains(err.Error(), g.String()) {
			t.Errorf("grid %v: SplitFeatures = %v, want an error naming it", g, err)
		}
	}
}

// FuzzGridTokens checks the grid validation on any two grids and merge size: an accepted list
// has grids of positive sizes with h and w multiples of m, each grid's Tokens is its exact
// t·(h/m)·(w/m) and the total is at most MaxTokens (computed without overflow).
func FuzzGridTokens(f *testing.F) {
	f.Add(int64(1), int64(4), int64(6), int64(1), int64(2), int64(2), int64(2))
	f.Add(int64(1<<24), int64(1<<24), int64(1<<24), int64(0), int64(0), int64(0), int64(2))
	f.Add(int64(1<<20), int64(1<<24), int64(1<<24+2), int64(1), int64(2), int64(2), int64(2))
	f.Add(int64(3), int64(1<<31+2), int64(1<<32+4), int64(0), int64(0), int64(0), int64(2))
	f.Add(int64(1), int64(1<<13), int64(1<<13), int64(1), int64(2), int64(2), int64(2))
	f.Add(int64(1<<22), int64(1<<40), int64(1<<40), int64(0), int64(0), int64(0), int64(1<<20))
	f.Add(int64(1), int64(1<<31), int64(1<<31), int64(0), int64(0), int64(0), int64(1<<31))
	f.Fuzz(func(t *testing.T, t0, h0, w0, t1, h1, w1, m int64) {
		if m < 1 || m > 1<<32 {
			return
		}
		grids := []Grid{{int(t0), int(h0), int(w0)}}
		if t1 != 0 || h1 != 0 || w1 != 0 {
			grids = append(grids, Grid{int(t1), int(h1), int(w1)})
		}
		if checkGrids(grids, nil, int(m)) != nil {
			return
		}
		total := new(big.Int)
		for _, g := range grids {
			if g.T < 1 || g.H < 1 || g.W < 1 || g.H%int(m) != 0 || g.W%int(m) != 0 {
				t.Fatalf("checkGrids accepted the grid %v with merge size %d", g, m)
			}
			exact := new(big.Int).Mul(big.NewInt(int64(g.T)), big.NewInt(int64(g.H)/m))
			exact.Mul(exact, big.NewInt(int64(g.W)/m))
			if exact.Cmp(big.NewInt(int64(g.Tokens(int(m))))) != 0 {
				t.Fatalf("grid %v, m %d: Tokens = %d, exactly %v", g, m, g.Tokens(int(m)), exact)
			}
			total.Add(total, exact)
		}
		if total.Cmp(big.NewInt(MaxTokens)) > 0 {
			t.Fatalf("checkGrids(%v, m %d) accepted %v tokens, more than %d", grids, m, total, MaxTokens)
		}
	})
}
