package picture

import (
	"image/color"
	"math"
)

// Heat is the colour map of the attention pictures, 256 levels from 0 (no weight) to 255 (the
// picture's largest weight): our own ramp in Oklab, lightness L rising linearly from 0.27 to
// 0.94 (so it reads in order in grey too, and equal steps look about equal), the hue going
// from a dark blue (a, b = 0.02, −0.14) through red (0.16, 0.05) to a light yellow (−0.05,
// 0.16), a and b linear on each half; converted to sRGB (Oklab's published matrices, the sRGB
// transfer curve), clipped to [0, 1] and rounded to 8 bits. It is computed once, in float64.
var Heat = heatRamp()

func heatRamp() [256]color.RGBA {
	var lut [256]color.RGBA
	type ab struct{ a, b float64 }
	dark, mid, light := ab{0.02, -0.14}, ab{0.16, 0.05}, ab{-0.05, 0.16}
	for i := range lut {
		t := float64(i) / 255
		L := 0.27 + (0.94-0.27)*t
		from, to, u := dark, mid, 2*t
		if t > 0.5 {
			from, to, u = mid, light, 2*t-1
		}
		a, b := from.a+(to.a-from.a)*u, from.b+(to.b-from.b)*u
		r, g, bl := oklabToLinear(L, a, b)
		lut[i] = color.RGBA{srgb8(r), srgb8(g), srgb8(bl), 255}
	}
	return lut
}

// oklabToLinear converts Oklab (L, a, b) to linear sRGB.
func oklabToLinear(L, a, b float64) (r, g, bl float64) {
	l := L + 0.3963377774*a + 0.2158037573*b
	m := L - 0.1055613458*a - 0.0638541728*b
	s := L - 0.0894841775*a - 1.2914855480*b
	l, m, s = l*l*l, m*m*m, s*s*s
	return 4.0767416621*l - 3.3077115913*m + 0.2309699292*s,
		-1.2684380046*l + 2.6097574011*m - 0.3413193965*s,
		-0.0041960863*l - 0.7034186147*m + 1.7076147010*s
}

// srgb8 is the 8-bit sRGB level of linear x, clipped to [0, 1].
func srgb8(x float64) uint8 {
	x = min(max(x, 0), 1)
	if x <= 0.0031308 {
		x *= 12.92
	} else {
		x = 1.055*math.Pow(x, 1/2.4) - 0.055
	}
	return uint8(math.Round(255 * x))
}
