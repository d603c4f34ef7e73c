// Package matrix holds the one row-major float32 matrix type of the models' outputs and
// traces (vision.Matrix, textjoin.Matrix and text.Matrix are this type).
package matrix

// Matrix is a row-major float32 matrix [Rows, Cols]: row r is Data[r·Cols : (r+1)·Cols].
type Matrix struct {
	Rows, Cols int
	Data       []float32 // len Rows·Cols
}

// Row returns row r (a view).
func (m Matrix) Row(r int) []float32 { return m.Data[r*m.Cols : (r+1)*m.Cols] }
