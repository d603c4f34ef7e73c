package pipeline

import (
	"context"
	"fmt"

	"github.com/qwen3vl/qwen3vl/vision"
)

// Batch gathers consecutive items for one Encode call. Encoding several items together returns,
// bit for bit, what encoding each alone would (the rows of one item never mix with another's),
// so batching changes only the speed. The zero value is an empty batch.
type Batch struct {
	items   []Item // without their pixels
	pixels  []float32
	grids   []vision.Grid
	patches int
}

// Add appends an item: its pixels are copied after the previous items' rows.
func (b *Batch) Add(it Item) {
	b.pixels = append(b.pixels, it.Pixels...)
	b.grids = append(b.grids, it.Grid)
	b.patches += it.Grid.Patches()
	it.Pixels = nil
	b.items = append(b.items, it)
}

// Len is the number of items.
func (b *Batch) Len() int { return len(b.items) }

// Patches is the number of patch rows of all items.
func (b *Batch) Patches() int { return b.patches }

// Pixels is the items' pixel rows, concatenated: [Patches(), PatchDim].
func (b *Batch) Pixels() []float32 { return b.pixels }

// Grids are the items' grids, in order.
func (b *Batch) Grids() []vision.Grid { return b.grids }

// Reset empties the batch, keeping its pixel buffer for reuse.
func (b *Batch) Reset() { *b = Batch{pixels: b.pixels[:0]} }

// Encode runs the tower on the batch.
func (p *Pipeline) Encode(ctx context.Context, b *Batch) (*Result, error) {
	out, err := p.Model.Encode(ctx, b.pixels, b.grids)
	if err != nil {
		return nil, reword(err, "pipeline: ", "vision: ")
	}
	return b.Result(out)
}

// Result pairs out, the tower's output for the batch's pixels and grids (from
// vision.Model.Encode or a stand-in), with the batch's items. The batch may be reset after.
func (b *Batch) Result(out *vision.Output) (*Result, error) {
	r := &Result{out: out, items: b.items, patch0: make([]int, len(b.items)+1), token0: make([]int, len(b.items)+1)}
	if out.LastHidden.Rows != b.patches {
		return nil, fmt.Errorf("pipeline: the output has %d patch rows, the batch %d", out.LastHidden.Rows, b.patches)
	}
	merge2 := 1
	if b.patches > 0 {
		merge2 = b.patches / max(out.Pooler.Rows, 1)
	}
	if merge2 < 1 || out.Pooler.Rows*merge2 != b.patches {
		return nil, fmt.Errorf("pipeline: the output has %d token rows for %d patches", out.Pooler.Rows, b.patches)
	}
	for i, it := range b.items {
		r.patch0[i+1] = r.patch0[i] + it.Grid.Patches()
		r.token0[i+1] = r.token0[i] + it.Grid.Patches()/merge2
	}
	return r, nil
}

// Result is one batch's output.
type Result struct {
	out            *vision.Output
	items          []Item
	patch0, token0 []int // the first patch and token row of each item, and the totals
}

// Output is the tower's output for the whole batch.
func (r *Result) Output() *vision.Output { return r.out }

// Items returns the rows of items [i, j): views into the result, not copies.
func (r *Result) Items(i, j int) Features {
	rows := func(x vision.Matrix, r0, r1 int) vision.Matrix {
		return vision.Matrix{Rows: r1 - r0, Cols: x.Cols, Data: x.Data[r0*x.Cols : r1*x.Cols]}
	}
	t0, t1, p0, p1 := r.token0[i], r.token0[j], r.patch0[i], r.patch0[j]
	f := Features{
		Items:      r.items[i:j:j],
		Pooler:     rows(r.out.Pooler, t0, t1),
		LastHidden: rows(r.out.LastHidden, p0, p1),
	}
	for _, d := range r.out.Deepstack {
		f.Deepstack = append(f.Deepstack, rows(d, t0, t1))
	}
	return f
}

// Features are the outputs of consecutive items: for each, Pooler and every Deepstack matrix
// have Grid.Patches()/merge² rows (its tokens), LastHidden Grid.Patches() rows, items in order.
type Features struct {
	Items      []Item // without pixels
	Pooler     vision.Matrix
	Deepstack  []vision.Matrix
	LastHidden vision.Matrix
}

// Append adds g's items after f's (copying their rows).
func (f *Features) Append(g Features) {
	add := func(dst *vision.Matrix, src vision.Matrix) {
		dst.Cols = src.Cols
		dst.Rows += src.Rows
		dst.Data = append(dst.Data, src.Data...)
	}
	f.Items = append(f.Items, g.Items...)
	add(&f.Pooler, g.Pooler)
	add(&f.LastHidden, g.LastHidden)
	if f.Deepstack == nil {
		f.Deepstack = make([]vision.Matrix, len(g.Deepstack))
	}
	for k, d := range g.Deepstack {
		add(&f.Deepstack[k], d)
	}
}

// Grids are the items' grids, in order.
func (f Features) Grids() []vision.Grid {
	g := make([]vision.Grid, len(f.Items))
	for i, it := range f.Items {
		g[i] = it.Grid
	}
	return g
}

// Item returns item i's rows: views into f, not copies.
func (f Features) Item(i int) Features {
	t0, nt := f.Tokens(i)
	p0 := 0
	for _, it := range f.Items[:i] {
		p0 += it.Grid.Patches()
	}
	np := f.Items[i].Grid.Patches()
	rows := func(x vision.Matrix, r0, n int) vision.Matrix {
		return vision.Matrix{Rows: n, Cols: x.Cols, Data: x.Data[r0*x.Cols : (r0+n)*x.Cols]}
	}
	g := Features{Items: f.Items[i : i+1 : i+1], Pooler: rows(f.Pooler, t0, nt), LastHidden: rows(f.LastHidden, p0, np)}
	for _, d := range f.Deepstack {
		g.Deepstack = append(g.Deepstack, rows(d, t0, nt))
	}
	return g
}

// Tokens returns item i's first token row and token count in Pooler and Deepstack.
func (f Features) Tokens(i int) (first, n int) {
	merge2 := 1
	if f.Pooler.Rows > 0 {
		merge2 = f.LastHidden.Rows / f.Pooler.Rows
	}
	for _, it := range f.Items[:i] {
		first += it.Grid.Patches() / merge2
	}
	return first, f.Items[i].Grid.Patches() / merge2
}
