package jinja

import (
	"math"
	"testing"
)

func TestFloatPowSpecials(t *testing.T) {
	for _, tc := range []struct{ x, y, want float64 }{
		{2, 2.5, 5.656854249492381}, {2, 0.5, math.Sqrt2}, {10, -2, 0.01}, {-2, 3, -8}, {-2, 2, 4},
		{1, 1e300, 1}, {0, 2, 0}, {4, 0, 1}, {9, 0.5, 3}, {2, -1074, 5e-324}, {2, 1023, 8.98846567431158e307},
	} {
		v, err := floatPow(tc.x, tc.y)
		if err != nil || v.(float64) != tc.want {
			t.Errorf("%v ** %v = %v, %v; want %v", tc.x, tc.y, v, err, tc.want)
		}
	}
	for _, tc := range [][2]float64{{0, -1}, {10, 400}, {-8, 1.0 / 3}} {
		if _, err := floatPow(tc[0], tc[1]); err == nil {
			t.Errorf("%v ** %v: no error", tc[0], tc[1])
		}
	}
}
