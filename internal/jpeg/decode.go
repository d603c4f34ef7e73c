package jpeg

import (
	"fmt"
	"image"
	"image/color"
	"io"
)

// component is one colour component of the frame.
type component struct {
	index, id, h, v, tq int
	dcTbl, acTbl        int

	widthInBlocks, heightInBlocks int // blocks holding real samples
	dsWidth, dsHeight             int // libjpeg's downsampled_width/height
	bw, bh                        int // allocated coefficient blocks (MCU-rounded)

	// qt is the quantization table latched when the component first appears
	// in a scan (latch_quant_tables); nil if it never did.
	qt *[64]uint16
	// qmul is qt as libjpeg-turbo's IDCT sees it: the SIMD build stores the
	// multipliers as 16-bit shorts.
	qmul [64]int32

	coefs    []int16 // multi-scan files: bw*bh blocks of 64 coefficients
	coefBits [64]int // progressive: Al of the last scan of each coefficient, -1 if none

	plane  []byte // decoded samples, widthInBlocks*8 x heightInBlocks*8
	stride int

	// allocRows is the number of block rows currently allocated in plane
	// (single-scan files) or coefs (multi-scan files). Buffers grow as the
	// entropy-coded data actually reaches further rows, so a header that
	// promises a huge image backed by little data allocates little.
	allocRows int
}

// colorSpace is the JPEG colour space guessed as in default_decompress_parms.
type colorSpace int

const (
	csGray colorSpace = iota
	csYCbCr
	csRGB
	csCMYK
	csYCCK
)

type decoder struct {
	src source
	br  bitReader

	width, height int
	progressive   bool
	arithmetic    bool // SOF9/SOF10: arithmetic-coded scans (arith.go)
	sawSOF        bool
	comps         []component
	maxH, maxV    int
	totalIMCURows int

	quant [4]*[64]uint16
	huff  [2][4]*rawHuffman // [0]=DC, [1]=AC
	dc    [4]huffTable      // derived tables for the current scan
	ac    [4]huffTable

	cond  conditioning // DAC parameters for arithmetic coding
	arith arithDecoder // arithmetic decoder state of the current scan

	restartInterval int
	sawJFIF         bool
	sawAdobe        bool
	adobeTransform  int

	// legacySmoothing selects libjpeg-turbo 2.x's block-smoothing edge
	// rules instead of 3.x's (see smooth.go). Only tests set it, to compare
	// against a 2.x djpeg.
	legacySmoothing bool

	cs         colorSpace // chosen at the first SOS
	started    bool       // first SOS processed
	multiScan  bool       // coefficients are buffered (libjpeg's has_multiple_scans)
	scanNumber int
}

// Decode decodes a baseline, extended sequential or progressive JPEG,
// Huffman- or arithmetic-coded, exactly as libjpeg-turbo's default
// decompression does. It returns *image.Gray (1 component),
// *image.RGBA (3 components) or *image.CMYK (4 components, libjpeg's raw
// CMYK samples; see the package documentation).
func Decode(r io.Reader) (image.Image, error) {
	d := &decoder{src: source{r: r}}
	d.br.src = &d.src
	return d.decode()
}

// decodeLegacy decodes like libjpeg-turbo 2.x (which differs from 3.x only
// in block smoothing of incompletely coded progressive images).
func decodeLegacy(r io.Reader) (image.Image, error) {
	d := &decoder{src: source{r: r}, legacySmoothing: true}
	d.br.src = &d.src
	return d.decode()
}

// DecodeConfig returns the dimensions and colour model of a JPEG image
// without decoding it. It parses the markers with the same code as Decode,
// up to and including the frame header, applies Decode's validation of them,
// and reads no further than the input chunk holding the frame header. Unlike
// Decode it does not refuse images larger than MaxPixels, so that a caller's
// own size limit can speak.
func DecodeConfig(r io.Reader) (image.Config, error) {
	d := &decoder{src: source{r: r}}
	d.br.src = &d.src
	if err := d.readHeader(); err != nil {
		return image.Config{}, err
	}
	var m color.Model
	switch len(d.comps) {
	case 1:
		m = color.GrayModel
	case 3:
		m = color.RGBAModel
	default:
		m = color.CMYKModel
	}
	return image.Config{ColorModel: m, Width: d.width, Height: d.height}, nil
}

// readHeader reads markers up to and including the frame header.
func (d *decoder) readHeader() error {
	if err := d.readSOI(); err != nil {
		return err
	}
	for {
		m, err := d.nextMarker()
		if err != nil {
			return err
		}
		done, err := d.handleMarker(m)
		if err != nil {
			return err
		}
		if done {
			return FormatError("no image before EOI")
		}
		if d.sawSOF {
			return nil
		}
	}
}

// handleMarker processes a marker other than SOS. It reports true for EOI.
func (d *decoder) handleMarker(m int) (eoi bool, err error) {
	switch {
	case m == mSOI:
		return false, FormatError("duplicate SOI marker")
	case m == mSOF0 || m == mSOF1 || m == mSOF2 || m == mSOF9 || m == mSOF10:
		return false, d.processSOF(m)
	case m == mSOF3 || m == mSOF5 || m == mSOF6 || m == mSOF7 || m == mJPG ||
		m == mSOF11 || m == mSOF13 || m == mSOF14 || m == mSOF15:
		return false, UnsupportedError(fmt.Sprintf("SOF type 0x%02X (lossless or hierarchical JPEG)", m))
	case m == mEOI:
		return true, nil
	case m == mDHT:
		return false, d.processDHT()
	case m == mDQT:
		return false, d.processDQT()
	case m == mDRI:
		return false, d.processDRI()
	case m >= mAPP0 && m <= mAPP15 || m == mCOM:
		return false, d.processAPP(m)
	case m >= mRST0 && m <= mRST7 || m == mTEM:
		return false, nil
	case m == mDAC:
		return false, d.processDAC()
	case m == mDNL:
		return false, d.skipVariable()
	}
	return false, FormatError(fmt.Sprintf("unknown marker 0x%02X", m))
}

// checkPixels refuses a frame larger than MaxPixels, before any image
// memory is allocated.
func (d *decoder) checkPixels() error {
	if int64(d.width)*int64(d.height) > MaxPixels {
		return UnsupportedError(fmt.Sprintf("image of %dx%d pixels is larger than MaxPixels", d.width, d.height))
	}
	return nil
}

// decode reads the whole stream: markers, then each scan as it comes (the
// equivalent of libjpeg's consume_input loop), and finally converts the
// decoded components to an image.
func (d *decoder) decode() (image.Image, error) {
	if err := d.readSOI(); err != nil {
		return nil, err
	}
	pending := 0 // marker already read by the entropy decoder
	for {
		m := pending
		pending = 0
		if m == 0 {
			var err error
			m, err = d.nextMarker()
			if err != nil {
				// Even after a complete scan, a missing EOI is an error:
				// Pillow reports "image file is truncated" (djpeg would
				// warn and return the image).
				return nil, err
			}
		}
		if m == mSOS {
			s, err := d.processSOS()
			if err != nil {
				return nil, err
			}
			if d.started && !d.multiScan {
				return nil, FormatError("unexpected second scan in a single-scan image")
			}
			if !d.started {
				if err := d.setup(s); err != nil {
					return nil, err
				}
			}
			d.scanNumber++
			if d.scanNumber > maxScans {
				return nil, UnsupportedError(fmt.Sprintf("more than %d scans", maxScans))
			}
			if err := d.decodeScan(s); err != nil {
				return nil, err
			}
			if d.br.marker > 0 {
				pending = d.br.marker
			} else if d.br.marker < 0 {
				return nil, d.src.truncated()
			}
			continue
		}
		eoi, err := d.handleMarker(m)
		if err != nil {
			return nil, err
		}
		if isSOF(m) {
			if err := d.checkPixels(); err != nil {
				return nil, err
			}
		}
		if eoi {
			if !d.started {
				return nil, FormatError("JPEG datastream contains no image")
			}
			return d.output()
		}
	}
}

// setup runs at the first SOS, mirroring libjpeg's initial_setup and
// master_selection: it decides the colour space and buffering mode and
// allocates the sample or coefficient buffers (never before this point, so
// a header alone cannot cause a large allocation).
func (d *decoder) setup(s *scan) error {
	// Like jpeg_read_header, decide the colour space from the markers seen
	// before the first scan; APPn markers between scans do not change it.
	cs, err := d.colorSpace()
	if err != nil {
		return err
	}
	d.cs = cs
	d.started = true
	d.totalIMCURows = ceilDiv(d.height, d.maxV*8)
	mcusX := ceilDiv(d.width, d.maxH*8)
	for i := range d.comps {
		c := &d.comps[i]
		c.widthInBlocks = ceilDiv(d.width*c.h, d.maxH*8)
		c.heightInBlocks = ceilDiv(d.height*c.v, d.maxV*8)
		c.dsWidth = ceilDiv(d.width*c.h, d.maxH)
		c.dsHeight = ceilDiv(d.height*c.v, d.maxV)
		c.bw = mcusX * c.h
		c.bh = d.totalIMCURows * c.v
		for k := range c.coefBits {
			c.coefBits[k] = -1
		}
	}
	d.multiScan = d.progressive || len(s.comps) < len(d.comps)
	if !d.progressive && !d.arithmetic {
		// jinit_huff_decoder: fill undefined slots 0 and 1 with the
		// standard tables.
		for _, t := range stdHuffman {
			if d.huff[t.class][t.index] == nil {
				h := &rawHuffman{bits: t.bits}
				copy(h.vals[:], t.vals)
				d.huff[t.class][t.index] = h
			}
		}
	}
	for i := range d.comps {
		d.comps[i].stride = d.comps[i].widthInBlocks * 8
	}
	return nil
}

// growRows makes at least n block rows of the component's buffer available,
// growing geometrically up to the full size.
func (d *decoder) growRows(c *component, n int) {
	total := c.heightInBlocks
	if d.multiScan {
		total = c.bh
	}
	n = min(total, max(n, 2*c.allocRows))
	if n <= c.allocRows {
		return
	}
	if d.multiScan {
		c.coefs = append(c.coefs, make([]int16, (n-c.allocRows)*c.bw*64)...)
	} else {
		c.plane = append(c.plane, make([]byte, (n-c.allocRows)*8*c.stride)...)
	}
	c.allocRows = n
}

// colorSpace guesses the JPEG colour space as default_decompress_parms does.
func (d *decoder) colorSpace() (colorSpace, error) {
	switch len(d.comps) {
	case 1:
		return csGray, nil
	case 3:
		if d.sawJFIF {
			return csYCbCr, nil
		}
		if d.sawAdobe {
			if d.adobeTransform == 0 {
				return csRGB, nil
			}
			return csYCbCr, nil
		}
		if d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B' {
			return csRGB, nil
		}
		return csYCbCr, nil
	case 4:
		if d.sawAdobe && d.adobeTransform == 0 {
			return csCMYK, nil
		}
		if d.sawAdobe {
			return csYCCK, nil
		}
		return csCMYK, nil
	}
	return 0, UnsupportedError(fmt.Sprintf("%d color components", len(d.comps)))
}

// latchQuant saves each scan component's quantization table the first time
// the component is seen (latch_quant_tables).
func (d *decoder) latchQuant(s *scan) error {
	for _, c := range s.comps {
		if c.qt != nil {
			continue
		}
		if c.tq >= 4 || d.quant[c.tq] == nil {
			return FormatError(fmt.Sprintf("quantization table 0x%02x was not defined", c.tq))
		}
		q := *d.quant[c.tq]
		c.qt = &q
		for k, v := range q {
			c.qmul[k] = int32(int16(v))
		}
	}
	return nil
}

// output converts the decoded components into the final image.
func (d *decoder) output() (image.Image, error) {
	if d.multiScan {
		smooth := d.progressive && d.smoothingOK()
		for i := range d.comps {
			c := &d.comps[i]
			d.growRows(c, c.bh)
			c.plane = make([]byte, c.stride*c.heightInBlocks*8)
			if smooth {
				d.smoothComponent(c)
			} else {
				d.idctComponent(c)
			}
			c.coefs = nil
		}
	}
	return d.convert(d.cs), nil
}

// idctComponent transforms all buffered blocks of a component
// (decompress_data).
func (d *decoder) idctComponent(c *component) {
	for by := 0; by < c.heightInBlocks; by++ {
		for bx := 0; bx < c.widthInBlocks; bx++ {
			blk := (*[64]int16)(c.coefs[(by*c.bw+bx)*64:])
			idctIslow(blk, &c.qmul, c.plane[by*8*c.stride+bx*8:], c.stride)
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
