package jpeg

// This file reproduces libjpeg-turbo's chroma upsampling (jdsample.c) with
// do_fancy_upsampling on:
//
//   - full-size components are used as they are;
//   - 2:1 horizontal ("h2v1") uses the triangular filter when the component
//     is more than 2 samples wide, otherwise pixel replication;
//   - 1:2 vertical ("h1v2") always uses the triangular filter;
//   - 2:1 both ways ("h2v2") uses the triangular filter when the component
//     is more than 2 samples wide, otherwise replication;
//   - every other integral ratio (e.g. 4:1:1) uses replication.
//
// Vertical filters need the rows above and below. At the top of the image
// the row above row 0 is row 0 itself, and at the bottom the last real row
// (downsampled_height-1) is repeated, as jdmainct.c's context pointers do.
// The filters only read downsampled_width samples per row; the first and
// last output columns use libjpeg's special cases.

type upMethod int

const (
	upFull upMethod = iota
	upH2V1Fancy
	upH1V2Fancy
	upH2V2Fancy
	upBox
)

// upsampler produces full-resolution rows of one component.
type upsampler struct {
	c      *component
	method upMethod
	hr, vr int    // expansion ratios
	row    []byte // output row buffer
	sums   []int  // column sums for h2v2
}

func newUpsampler(c *component, maxH, maxV, width int) *upsampler {
	u := &upsampler{c: c, hr: maxH / c.h, vr: maxV / c.v}
	switch {
	case u.hr == 1 && u.vr == 1:
		u.method = upFull
	case u.hr == 2 && u.vr == 1 && c.dsWidth > 2:
		u.method = upH2V1Fancy
	case u.hr == 1 && u.vr == 2:
		u.method = upH1V2Fancy
	case u.hr == 2 && u.vr == 2 && c.dsWidth > 2:
		u.method = upH2V2Fancy
		u.sums = make([]int, c.dsWidth)
	default:
		u.method = upBox
	}
	u.row = make([]byte, max(width, 2*c.dsWidth)+1)
	return u
}

// rowAt returns output row y (at least width samples) of the component. The
// returned slice may alias the component plane and is valid until the next
// call.
func (u *upsampler) rowAt(y, width int) []byte {
	c := u.c
	p, st := c.plane, c.stride
	switch u.method {
	case upFull:
		return p[y*st : y*st+width]

	case upH2V1Fancy:
		in := p[y*st : y*st+c.dsWidth]
		out := u.row
		n := len(in)
		v := int(in[0])
		out[0] = byte(v)
		out[1] = byte((v*3 + int(in[1]) + 2) >> 2)
		for i := 1; i < n-1; i++ {
			v = int(in[i]) * 3
			out[2*i] = byte((v + int(in[i-1]) + 1) >> 2)
			out[2*i+1] = byte((v + int(in[i+1]) + 2) >> 2)
		}
		v = int(in[n-1])
		out[2*n-2] = byte((v*3 + int(in[n-2]) + 1) >> 2)
		out[2*n-1] = byte(v)
		return out

	case upH1V2Fancy:
		r := y >> 1
		near := p[r*st : r*st+c.dsWidth]
		var far []byte
		bias := 1
		if y&1 == 0 {
			far = p[max(r-1, 0)*st:]
		} else {
			far = p[min(r+1, c.dsHeight-1)*st:]
			bias = 2
		}
		far = far[:len(near)]
		out := u.row[:len(near)]
		for i := range near {
			out[i] = byte((int(near[i])*3 + int(far[i]) + bias) >> 2)
		}
		return u.row

	case upH2V2Fancy:
		r := y >> 1
		near := p[r*st : r*st+c.dsWidth]
		var far []byte
		if y&1 == 0 {
			far = p[max(r-1, 0)*st:]
		} else {
			far = p[min(r+1, c.dsHeight-1)*st:]
		}
		far = far[:len(near)]
		sums := u.sums[:len(near)]
		for i := range near {
			sums[i] = int(near[i])*3 + int(far[i])
		}
		out := u.row
		n := len(sums)
		this, next := sums[0], sums[1]
		out[0] = byte((this*4 + 8) >> 4)
		out[1] = byte((this*3 + next + 7) >> 4)
		last := this
		this = next
		for i := 1; i < n-1; i++ {
			next = sums[i+1]
			out[2*i] = byte((this*3 + last + 8) >> 4)
			out[2*i+1] = byte((this*3 + next + 7) >> 4)
			last, this = this, next
		}
		out[2*n-2] = byte((this*3 + last + 8) >> 4)
		out[2*n-1] = byte((this*4 + 7) >> 4)
		return out

	default: // upBox
		r := y / u.vr
		in := p[r*st:]
		out := u.row[:width]
		if u.hr == 1 {
			copy(out, in[:width])
			return out
		}
		for x := range out {
			out[x] = in[x/u.hr]
		}
		return out
	}
}
