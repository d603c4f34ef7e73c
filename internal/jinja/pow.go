package jinja

import (
	"math"
	"math/big"
)

// Python's float ** float calls C's pow, which glibc computes to within
// about half an ulp; Go's math.Pow can be an ulp off (2 ** 2.5). floatPow
// computes x**y with 128-bit intermediates (exp(y·ln x)) and rounds once,
// which gives the correctly rounded result glibc gives.

const powPrec = 128

var ln2 = func() *big.Float {
	// ln 2 = 2·atanh(1/3)
	third := new(big.Float).SetPrec(powPrec).Quo(big.NewFloat(1).SetPrec(powPrec), big.NewFloat(3).SetPrec(powPrec))
	return atanh2(third)
}()

// atanh2 returns 2·atanh(z) = ln((1+z)/(1-z)) for |z| ≤ 1/3 by its series.
func atanh2(z *big.Float) *big.Float {
	sum := new(big.Float).SetPrec(powPrec)
	z2 := new(big.Float).SetPrec(powPrec).Mul(z, z)
	term := new(big.Float).SetPrec(powPrec).Set(z)
	eps := new(big.Float).SetPrec(powPrec).SetMantExp(big.NewFloat(1), -powPrec-8)
	for k := int64(1); k < 400; k += 2 {
		t := new(big.Float).SetPrec(powPrec).Quo(term, new(big.Float).SetPrec(powPrec).SetInt64(k))
		sum.Add(sum, t)
		if new(big.Float).Abs(t).Cmp(eps) < 0 {
			break
		}
		term.Mul(term, z2)
	}
	return sum.Mul(sum, big.NewFloat(2).SetPrec(powPrec))
}

// bigLog is ln(x) for a finite x > 0.
func bigLog(x float64) *big.Float {
	m, e := math.Frexp(x) // x = m·2^e, m in [0.5, 1)
	if m < math.Sqrt2/2 {
		m *= 2
		e--
	}
	bm := new(big.Float).SetPrec(powPrec).SetFloat64(m)
	one := new(big.Float).SetPrec(powPrec).SetInt64(1)
	num := new(big.Float).SetPrec(powPrec).Sub(bm, one)
	den := new(big.Float).SetPrec(powPrec).Add(bm, one)
	r := atanh2(num.Quo(num, den))
	return r.Add(r, new(big.Float).SetPrec(powPrec).Mul(ln2, new(big.Float).SetPrec(powPrec).SetInt64(int64(e))))
}

// bigExp is exp(t) rounded to float64, with ok false on overflow.
func bigExp(t *big.Float) (float64, bool) {
	tf, _ := t.Float64()
	if tf > 710 {
		return math.Inf(1), false
	}
	if tf < -746 {
		return 0, true
	}
	n := math.Round(tf / math.Ln2)
	r := new(big.Float).SetPrec(powPrec).Sub(t, new(big.Float).SetPrec(powPrec).Mul(ln2, new(big.Float).SetPrec(powPrec).SetFloat64(n)))
	sum := new(big.Float).SetPrec(powPrec).SetInt64(1)
	term := new(big.Float).SetPrec(powPrec).SetInt64(1)
	eps := new(big.Float).SetPrec(powPrec).SetMantExp(big.NewFloat(1), -powPrec-8)
	for k := int64(1); k < 200; k++ {
		term.Mul(term, r)
		term.Quo(term, new(big.Float).SetPrec(powPrec).SetInt64(k))
		sum.Add(sum, term)
		if new(big.Float).Abs(term).Cmp(eps) < 0 {
			break
		}
	}
	sum.SetMantExp(sum, int(n))
	f, _ := sum.Float64()
	if math.IsInf(f, 0) {
		return f, false
	}
	return f, true
}

// floatPow is Python's float.__pow__ for finite or special x, y.
func floatPow(x, y float64) (Value, error) {
	switch {
	case y == 0:
		return 1.0, nil
	case math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0):
		return math.Pow(x, y), nil
	case x == 0:
		if y < 0 {
			return nil, kindErrorf(Type, "0.0 cannot be raised to a negative power")
		}
		return math.Pow(x, y), nil
	}
	neg := false
	if x < 0 {
		if y != math.Trunc(y) {
			return nil, errorf("unsupported: a negative number raised to a fractional power is complex")
		}
		neg = math.Mod(y, 2) != 0
		x = -x
	}
	if x == 1 {
		if neg {
			return -1.0, nil
		}
		return 1.0, nil
	}
	t := bigLog(x)
	t.Mul(t, new(big.Float).SetPrec(powPrec).SetFloat64(y))
	r, ok := bigExp(t)
	if !ok {
		return nil, kindErrorf(Type, "(34, 'Numerical result out of range')")
	}
	if neg {
		r = -r
	}
	return r, nil
}
