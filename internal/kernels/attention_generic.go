package kernels

import (
	"fmt"
	"math"
)

// Portable Go twins of the attention micro-kernels (contracts in attnKernels, layouts in
// Attention's comment): the generic implementation's (impl_generic.go), and what the tests hold
// the assembly to.

func checkScores(k int, a, b, c []float32, ldc, panels int) {
	if k < 1 || panels < 1 || len(a) < k*attnMR || len(b) < panels*k*attnNR || ldc < panels*attnNR ||
		len(c) < (attnMR-1)*ldc+panels*attnNR {
		panic(fmt.Sprintf("kernels: attention scores: k %d, panels %d, a %d, b %d, c %d, ldc %d", k, panels, len(a), len(b), len(c), ldc))
	}
}

func checkPV(kb int, p []float32, ldp int, v []float32, vstride int, o []float32, ldo, panels int, alpha []float32) {
	if kb < 1 || panels < 1 || ldp < kb || len(p) < (attnMR-1)*ldp+kb || vstride < kb*attnNR ||
		len(v) < (panels-1)*vstride+kb*attnNR || ldo < panels*attnNR || len(o) < (attnMR-1)*ldo+panels*attnNR ||
		len(alpha) < attnMR {
		panic(fmt.Sprintf("kernels: attention P·V: kb %d, panels %d, p %d (ld %d), v %d (stride %d), o %d (ld %d), alpha %d",
			kb, panels, len(p), ldp, len(v), vstride, len(o), ldo, len(alpha)))
	}
}

func checkPV8(kb int, p []float32, ldp int, v, o []float32, ldo int, alpha []float32) {
	if kb < 1 || ldp < kb || len(p) < (attnMR-1)*ldp+kb || len(v) < kb*8 || ldo < 8 ||
		len(o) < (attnMR-1)*ldo+8 || len(alpha) < attnMR {
		panic(fmt.Sprintf("kernels: attention P·V (8 columns): kb %d, p %d (ld %d), v %d, o %d (ld %d), alpha %d",
			kb, len(p), ldp, len(v), len(o), ldo, len(alpha)))
	}
}

func checkSoftmax(s []float32, ld, kb int) {
	if kb < 8 || kb%8 != 0 || ld < kb || len(s) < (attnMR-1)*ld+kb {
		panic(fmt.Sprintf("kernels: attention softmax: s %d, ld %d, kb %d", len(s), ld, kb))
	}
}

func scoresGo(k int, a, b, c []float32, ldc, panels int) {
	checkScores(k, a, b, c, ldc, panels)
	a = a[:k*attnMR]
	for t := 0; t < panels; t++ {
		bt := b[t*k*attnNR : (t+1)*k*attnNR]
		for i := 0; i < attnMR; i++ {
			ci := c[i*ldc+t*attnNR : i*ldc+(t+1)*attnNR]
			for j := 0; j < attnNR; j += 4 {
				var s0, s1, s2, s3 float32
				for p := 0; p < k; p++ {
					x := a[p*attnMR+i]
					y := bt[p*attnNR+j : p*attnNR+j+4 : p*attnNR+j+4]
					s0 += x * y[0]
					s1 += x * y[1]
					s2 += x * y[2]
					s3 += x * y[3]
				}
				ci[j], ci[j+1], ci[j+2], ci[j+3] = s0, s1, s2, s3
			}
		}
	}
}

func pvGo(kb int, p []float32, ldp int, v []float32, vstride int, o []float32, ldo, panels int, alpha []float32) {
	checkPV(kb, p, ldp, v, vstride, o, ldo, panels, alpha)
	for t := 0; t < panels; t++ {
		vt := v[t*vstride : t*vstride+kb*attnNR]
		for i := 0; i < attnMR; i++ {
			pi := p[i*ldp : i*ldp+kb]
			oi := o[i*ldo+t*attnNR : i*ldo+(t+1)*attnNR]
			al := alpha[i]
			for c := 0; c < attnNR; c += 4 {
				s0, s1, s2, s3 := oi[c]*al, oi[c+1]*al, oi[c+2]*al, oi[c+3]*al
				for j, x := range pi {
					y := vt[j*attnNR+c : j*attnNR+c+4 : j*attnNR+c+4]
					s0 += x * y[0]
					s1 += x * y[1]
					s2 += x * y[2]
					s3 += x * y[3]
				}
				oi[c], oi[c+1], oi[c+2], oi[c+3] = s0, s1, s2, s3
			}
		}
	}
}

func pv8Go(kb int, p []float32, ldp int, v, o []float32, ldo int, alpha []float32) {
	checkPV8(kb, p, ldp, v, o, ldo, alpha)
	v = v[:kb*8]
	for i := 0; i < attnMR; i++ {
		pi := p[i*ldp : i*ldp+kb]
		oi := o[i*ldo : i*ldo+8]
		al := alpha[i]
		for c := 0; c < 8; c += 4 {
			s0, s1, s2, s3 := oi[c]*al, oi[c+1]*al, oi[c+2]*al, oi[c+3]*al
			for j, x := range pi {
				y := v[j*8+c : j*8+c+4 : j*8+c+4]
				s0 += x * y[0]
				s1 += x * y[1]
				s2 += x * y[2]
				s3 += x * y[3]
			}
			oi[c], oi[c+1], oi[c+2], oi[c+3] = s0, s1, s2, s3
		}
	}
}

func softmaxGo(s []float32, ld, kb int, m, alpha, sum *[8]float32) {
	checkSoftmax(s, ld, kb)
	for i := 0; i < attnMR; i++ {
		row := s[i*ld : i*ld+kb]
		mx := m[i]
		for _, x := range row {
			mx = max(mx, x)
		}
		alpha[i] = exp2Go(m[i] - mx)
		m[i] = mx
		var acc [8]float32
		for j, x := range row {
			e := exp2Go(x - mx)
			row[j] = e
			acc[j&7] += e
		}
		sum[i] = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
	}
}

// Coefficients of 2^f = 1 + f·(((((p0·f + p1)·f + p2)·f + p3)·f + p4)·f + p5) for f ∈ [−½, ½]
// (Cephes exp2f), shared with the assembly (attention_amd64.s, as bit patterns).
const (
	exp2P0 = 1.535336188319500e-4
	exp2P1 = 1.339887440266574e-3
	exp2P2 = 9.618437357674640e-3
	exp2P3 = 5.550332471162809e-2
	exp2P4 = 2.402264791363012e-1
	exp2P5 = 6.931472028550421e-1
)

// exp2Go returns 2^x in float32 arithmetic, as the assembly computes it: x is clamped to
// [−127, 127], n = round-half-even(x), f = x − n (exact), 2^f by the polynomial above and the
// result scaled by 2^n through the exponent bits. Within about 2 ulp of 2^x for x ∈ [−126, 127];
// below −126.5 the result is flushed to 0 (and so is NaN).
func exp2Go(x float32) float32 {
	if !(x >= -127) {
		x = -127
	}
	x = min(x, 127)
	n := float32(math.RoundToEven(float64(x)))
	f := x - n
	p := float32(exp2P0)
	p = p*f + exp2P1
	p = p*f + exp2P2
	p = p*f + exp2P3
	p = p*f + exp2P4
	p = p*f + exp2P5
	p = p*f + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}
