package trace

import "testing"

func TestEmit(t *testing.T) {
	var nilFunc Func
	nilFunc.Emit(0, "x", nil, 0, 0) // no trace function: nothing happens

	data := []float32{1, 2, 3, 4, 5, 6, 7}
	var got []Tensor
	Func(func(tr Tensor) { got = append(got, tr) }).Emit(3, "attn", data, 2, 3)
	if len(got) != 1 {
		t.Fatalf("%d tensors traced, want 1", len(got))
	}
	tr := got[0]
	if tr.Layer != 3 || tr.Name != "attn" || tr.Matrix.Rows != 2 || tr.Matrix.Cols != 3 {
		t.Errorf("traced %+v", tr)
	}
	if len(tr.Matrix.Data) != 6 || cap(tr.Matrix.Data) != 6 {
		t.Errorf("view len %d cap %d, want 6 and 6 (nothing past the matrix reachable)", len(tr.Matrix.Data), cap(tr.Matrix.Data))
	}
	if r := tr.Matrix.Row(1); r[0] != 4 || r[2] != 6 {
		t.Errorf("Row(1) = %v", r)
	}
}
