package jpeg

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	stdjpeg "image/jpeg"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureDir is where the committed fixtures live.
const fixtureDir = "../../testdata/jpeg"

// TestGenerateFixtures regenerates testdata/jpeg. It only runs with
// JPEG_GEN_FIXTURES=1 and needs cjpeg, djpeg and jpegtran (Debian
// libjpeg-turbo-progs) plus the ljref helper built from
// testdata/jpeg/tools/ljref.c and named by JPEG_LJREF. With a Python that
// has Pillow (JPEG_PILLOW_PYTHON), Pillow's output is recorded too.
func TestGenerateFixtures(t *testing.T) {
	if os.Getenv("JPEG_GEN_FIXTURES") != "1" {
		t.Skip("set JPEG_GEN_FIXTURES=1 (and JPEG_LJREF=/path/to/ljref) to regenerate testdata/jpeg")
	}
	ljref := os.Getenv("JPEG_LJREF")
	g := &fixtureGen{t: t, ljref: ljref, python: pillowPython()}
	if g.python != "" {
		v, err := exec.Command(g.python, "-c", "import PIL; from PIL import features; print(PIL.__version__, 'with libjpeg-turbo', features.version('libjpeg_turbo'))").Output()
		if err != nil {
			t.Fatal(err)
		}
		g.pillowVersion = strings.TrimSpace(string(v))
	}
	g.run()
	if err := os.WriteFile(filepath.Join(fixtureDir, "MANIFEST"), []byte(g.manifest.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

type fixtureGen struct {
	t             *testing.T
	ljref         string
	python        string // Python with Pillow, optional
	pillowVersion string
	manifest      strings.Builder
	inputs        map[string][]byte
}

func (g *fixtureGen) write(name string, data []byte) {
	if err := os.WriteFile(filepath.Join(fixtureDir, name), data, 0o644); err != nil {
		g.t.Fatal(err)
	}
}

// input returns (and records) a synthetic source picture.
func (g *fixtureGen) input(kind string, w, h, ch int) (string, []byte) {
	ext := ".ppm"
	if ch == 1 {
		ext = ".pgm"
	}
	name := fmt.Sprintf("src_%s_%dx%d%s", kind, w, h, ext)
	if g.inputs == nil {
		g.inputs = map[string][]byte{}
	}
	if b, ok := g.inputs[name]; ok {
		return name, b
	}
	b := synthImage(kind, w, h, ch, rand.New(rand.NewSource(int64(w*1000+h))))
	g.inputs[name] = b
	return name, b
}

// reference records the expected pixels of a fixture: djpeg's (or ljref's
// for CMYK, both libjpeg-turbo 2.1.5) and, when a Python with Pillow is
// available, Pillow's (libjpeg-turbo 3.x). They differ only in block
// smoothing; then the Pillow output is the default reference and djpeg's is
// recorded as the legacy (2.x mode) reference.
func (g *fixtureGen) reference(name string, jpg []byte, how string) {
	var ref []byte
	var err error
	refTool := "djpeg -pnm"
	if g.ljref != "" && isFourComponent(jpg) {
		ref, err = runTool(jpg, g.ljref, "dec")
		refTool = "ljref dec"
	} else {
		ref, err = runTool(jpg, "djpeg", "-pnm")
	}
	if err != nil {
		g.t.Fatalf("%s: %v", name, err)
	}
	g.write(name, jpg)
	base := strings.TrimSuffix(name, ".jpg")
	if g.python != "" {
		pil, err := runTool(jpg, g.python, "-c", pillowDecodeScript)
		if err != nil {
			g.t.Fatalf("%s: Pillow: %v", name, err)
		}
		if !bytes.Equal(pil, ref) {
			fmt.Fprintf(&g.manifest, "%s\t%s\t%s; reference: Pillow %s\n", name, g.store(base, pil), how, g.pillowVersion)
			fmt.Fprintf(&g.manifest, "%s\tlegacy-%s\t%s; libjpeg-turbo 2.x reference: %s\n", name, g.store(base+".v2", ref), how, refTool)
			return
		}
		refTool += " (identical to Pillow " + g.pillowVersion + ")"
	}
	fmt.Fprintf(&g.manifest, "%s\t%s\t%s; reference: %s\n", name, g.store(base, ref), how, refTool)
}

// store writes a reference next to the fixture (or, over 64 KiB, returns
// its SHA-256) and returns the MANIFEST expectation.
func (g *fixtureGen) store(base string, ref []byte) string {
	if len(ref) > 64<<10 {
		sum := sha256.Sum256(ref)
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	ext := ".ppm"
	switch {
	case bytes.HasPrefix(ref, []byte("P5")):
		ext = ".pgm"
	case bytes.HasPrefix(ref, []byte("P4CMYK")):
		ext = ".cmyk"
	}
	g.write(base+ext, ref)
	return "ref:" + base + ext
}

func (g *fixtureGen) expectError(name string, jpg []byte, kind, how string) {
	g.write(name, jpg)
	fmt.Fprintf(&g.manifest, "%s\terror:%s\t%s\n", name, kind, how)
}

func isFourComponent(jpg []byte) bool {
	img, err := DecodeConfig(bytes.NewReader(jpg))
	return err == nil && img.ColorModel == color.CMYKModel
}

func (g *fixtureGen) cjpeg(name, src string, srcData []byte, args ...string) []byte {
	jpg, err := runTool(srcData, "cjpeg", args...)
	if err != nil {
		g.t.Fatalf("%s: %v", name, err)
	}
	g.reference(name, jpg, fmt.Sprintf("cjpeg %s %s", strings.Join(args, " "), src))
	return jpg
}

func (g *fixtureGen) run() {
	photo, photoData := g.input("mix", 48, 40, 3)
	// Quality x sampling grid.
	for _, q := range []int{50, 75, 90, 100} {
		for _, s := range []string{"1x1", "2x1", "1x2", "2x2", "4x1"} {
			g.cjpeg(fmt.Sprintf("cj_q%d_%s.jpg", q, s), photo, photoData, "-quality", fmt.Sprint(q), "-sample", s)
		}
	}
	// Progressive.
	for _, q := range []int{75, 90} {
		for _, s := range []string{"1x1", "2x1", "2x2", "4x1"} {
			g.cjpeg(fmt.Sprintf("cj_prog_q%d_%s.jpg", q, s), photo, photoData, "-quality", fmt.Sprint(q), "-sample", s, "-progressive")
		}
	}
	// Restart intervals.
	g.cjpeg("cj_restart1_2x2.jpg", photo, photoData, "-quality", "85", "-sample", "2x2", "-restart", "1")
	g.cjpeg("cj_restart5B_1x1.jpg", photo, photoData, "-quality", "85", "-sample", "1x1", "-restart", "5B")
	g.cjpeg("cj_prog_restart2_2x2.jpg", photo, photoData, "-quality", "85", "-sample", "2x2", "-progressive", "-restart", "2")
	g.cjpeg("cj_optimize_2x2.jpg", photo, photoData, "-quality", "80", "-optimize")
	g.cjpeg("cj_rgb.jpg", photo, photoData, "-quality", "90", "-rgb")
	g.cjpeg("cj_sample_1x1_2x2_1x1.jpg", photo, photoData, "-quality", "90", "-sample", "1x1,2x2,1x1")
	g.cjpeg("cj_sample_4x2_1x1_1x1.jpg", photo, photoData, "-quality", "90", "-sample", "4x2,1x1,1x1")
	g.cjpeg("cj_sample_3x1.jpg", photo, photoData, "-quality", "90", "-sample", "3x1")
	g.cjpeg("cj_sample_1x4.jpg", photo, photoData, "-quality", "90", "-sample", "1x4")
	// Grayscale.
	gsrc, gdata := g.input("gradient", 33, 65, 1)
	g.cjpeg("cj_gray_q75.jpg", gsrc, gdata, "-quality", "75")
	g.cjpeg("cj_gray_prog_q90.jpg", gsrc, gdata, "-quality", "90", "-progressive")
	g.cjpeg("cj_grayscale_from_rgb.jpg", photo, photoData, "-quality", "75", "-grayscale")
	// Odd sizes, with 4:2:0 and progressive.
	for _, sz := range [][2]int{{1, 1}, {2, 2}, {3, 5}, {17, 9}, {33, 65}, {4095, 3}, {3, 300}} {
		src, data := g.input("mix", sz[0], sz[1], 3)
		g.cjpeg(fmt.Sprintf("cj_size_%dx%d_2x2.jpg", sz[0], sz[1]), src, data, "-quality", "90", "-sample", "2x2")
		g.cjpeg(fmt.Sprintf("cj_size_%dx%d_prog_2x1.jpg", sz[0], sz[1]), src, data, "-quality", "90", "-sample", "2x1", "-progressive")
	}
	// Other picture kinds.
	for _, kind := range []string{"gradient", "noise", "edges"} {
		src, data := g.input(kind, 40, 40, 3)
		g.cjpeg(fmt.Sprintf("cj_%s_q95_2x2.jpg", kind), src, data, "-quality", "95", "-sample", "2x2")
		g.cjpeg(fmt.Sprintf("cj_%s_q100_prog_1x1.jpg", kind), src, data, "-quality", "100", "-sample", "1x1", "-progressive")
	}
	// Scan scripts: incomplete progressions (block smoothing) and
	// multi-scan sequential files.
	for i, script := range scanScripts(false) {
		f := filepath.Join(g.t.TempDir(), "scans.txt")
		os.WriteFile(f, []byte(script), 0o644)
		jpg, err := runTool(photoData, "cjpeg", "-quality", "85", "-sample", "2x2", "-scans", f)
		if err != nil {
			g.t.Fatal(err)
		}
		g.reference(fmt.Sprintf("cj_scans%d.jpg", i), jpg, fmt.Sprintf("cjpeg -quality 85 -sample 2x2 -scans <file containing %q> %s", script, photo))
	}
	// Go's image/jpeg encoder (4:2:0 colour, and grayscale).
	rgba := pnmToImage(photoData)
	for _, q := range []int{50, 75, 90, 100} {
		var buf bytes.Buffer
		stdjpeg.Encode(&buf, rgba, &stdjpeg.Options{Quality: q})
		g.reference(fmt.Sprintf("go_q%d.jpg", q), buf.Bytes(), fmt.Sprintf("Go image/jpeg Encode quality %d of %s", q, photo))
	}
	{
		var buf bytes.Buffer
		stdjpeg.Encode(&buf, pnmToImage(gdata), &stdjpeg.Options{Quality: 80})
		g.reference("go_gray_q80.jpg", buf.Bytes(), "Go image/jpeg Encode quality 80 of "+gsrc)
	}
	base, _ := os.ReadFile(filepath.Join(fixtureDir, "cj_q75_2x2.jpg"))
	g.arithmetic(photo, photoData, gsrc, gdata, base)
	// CMYK and YCCK (Adobe), via ljref.
	if g.ljref != "" {
		raw := make([]byte, 0, 33*17*4)
		rng := rand.New(rand.NewSource(4))
		for y := 0; y < 17; y++ {
			for x := 0; x < 33; x++ {
				raw = append(raw, byte(x*7), byte(y*15), byte((x+y)*5), byte(rng.Intn(256)))
			}
		}
		for _, mode := range []string{"cmyk", "ycck"} {
			jpg, err := runTool(raw, g.ljref, mode, "85", "33", "17")
			if err != nil {
				g.t.Fatal(err)
			}
			g.reference("lj_"+mode+".jpg", jpg, fmt.Sprintf("ljref %s 85 33 17 < raw CMYK (x*7, y*15, (x+y)*5, rand seed 4)", mode))
		}
	}
	// Damaged files.
	prog, _ := os.ReadFile(filepath.Join(fixtureDir, "cj_prog_q75_2x2.jpg"))
	g.expectError("err_trunc_half.jpg", base[:len(base)/2], "truncated", "first half of cj_q75_2x2.jpg")
	g.expectError("err_trunc_header.jpg", base[:300], "truncated", "first 300 bytes of cj_q75_2x2.jpg")
	g.expectError("err_trunc_prog.jpg", prog[:len(prog)*3/4], "truncated", "first 3/4 of cj_prog_q75_2x2.jpg")
	g.expectError("err_prog_no_eoi.jpg", prog[:len(prog)-2], "truncated", "cj_prog_q75_2x2.jpg without its EOI marker")
	sos := bytes.Index(base, []byte{0xFF, 0xDA})
	bad := append([]byte{}, base...)
	mid := sos + (len(base)-sos)/2
	copy(bad[mid:], []byte{0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00})
	g.expectError("err_bad_huffman.jpg", bad, "format", "cj_q75_2x2.jpg with 6 bytes in the middle of the scan replaced by FF 00 FF 00 FF 00 (all-ones bits: invalid Huffman code)")
	early := append(append([]byte{}, base[:mid]...), 0xFF, 0xD9)
	g.expectError("err_early_eoi.jpg", early, "format", "cj_q75_2x2.jpg cut in the middle of the scan and terminated with EOI")
	badSOF := append([]byte{}, base...)
	sof := bytes.Index(badSOF, []byte{0xFF, 0xC0})
	badSOF[sof+3]++ // SOF length
	g.expectError("err_bad_sof_length.jpg", badSOF, "format", "cj_q75_2x2.jpg with the SOF0 length incremented")
	g.expectError("err_not_jpeg.jpg", []byte("GIF89a not a jpeg"), "format", "the text 'GIF89a not a jpeg'")
	// A missing EOI after a complete single scan: djpeg warns and returns
	// the image, Pillow raises "image file is truncated".
	g.expectError("err_no_eoi.jpg", base[:len(base)-2], "truncated", "cj_q75_2x2.jpg without its EOI marker")
	// Restart markers numbered +4 (mod 8): libjpeg resynchronises (action
	// 1: discard and resume) and decodes the image unchanged.
	rst := readFixtureGen(g.t, "cj_restart1_2x2.jpg")
	for i := bytes.Index(rst, []byte{0xFF, 0xDA}); i+1 < len(rst); i++ {
		if rst[i] == 0xFF && rst[i+1] >= 0xD0 && rst[i+1] <= 0xD7 {
			rst[i+1] = 0xD0 + (rst[i+1]-0xD0+4)&7
		}
	}
	g.reference("ok_rst_renumbered.jpg", rst, "cj_restart1_2x2.jpg with every RSTn marker replaced by RST((n+4) mod 8)")
	// Garbage bytes before EOI: libjpeg-turbo and Pillow accept it.
	garbage := append(append(append([]byte{}, base[:len(base)-2]...), 0x12, 0x34, 0x56), 0xFF, 0xD9)
	g.reference("ok_garbage_before_eoi.jpg", garbage, "cj_q75_2x2.jpg with bytes 12 34 56 inserted before EOI")
}

// arithmetic makes the arithmetic-coded fixtures (SOF9, SOF10): cjpeg
// -arithmetic over the same option groups as the Huffman files, jpegtran
// transcodes, non-default DAC conditioning via ljref, and damaged copies.
func (g *fixtureGen) arithmetic(photo string, photoData []byte, gsrc string, gdata []byte, base []byte) {
	for _, q := range []int{75, 100} {
		for _, s := range []string{"1x1", "2x1", "1x2", "2x2", "4x1"} {
			g.cjpeg(fmt.Sprintf("cj_arith_q%d_%s.jpg", q, s), photo, photoData, "-arithmetic", "-quality", fmt.Sprint(q), "-sample", s)
		}
	}
	for _, s := range []string{"1x1", "2x1", "2x2", "4x1"} {
		g.cjpeg(fmt.Sprintf("cj_arith_prog_q75_%s.jpg", s), photo, photoData, "-arithmetic", "-quality", "75", "-sample", s, "-progressive")
	}
	g.cjpeg("cj_arith_prog_q100_1x1.jpg", photo, photoData, "-arithmetic", "-quality", "100", "-sample", "1x1", "-progressive")
	for _, s := range []string{"3x1", "1x4", "1x1,2x2,1x1", "4x2,1x1,1x1"} {
		g.cjpeg("cj_arith_sample_"+strings.ReplaceAll(s, ",", "_")+".jpg", photo, photoData, "-arithmetic", "-quality", "90", "-sample", s)
	}
	g.cjpeg("cj_arith_gray_q75.jpg", gsrc, gdata, "-arithmetic", "-quality", "75")
	g.cjpeg("cj_arith_gray_prog_q90.jpg", gsrc, gdata, "-arithmetic", "-quality", "90", "-progressive")
	g.cjpeg("cj_arith_grayscale_from_rgb.jpg", photo, photoData, "-arithmetic", "-quality", "75", "-grayscale")
	g.cjpeg("cj_arith_restart1_2x2.jpg", photo, photoData, "-arithmetic", "-quality", "85", "-sample", "2x2", "-restart", "1")
	g.cjpeg("cj_arith_restart5B_1x1.jpg", photo, photoData, "-arithmetic", "-quality", "85", "-sample", "1x1", "-restart", "5B")
	g.cjpeg("cj_arith_prog_restart2_2x2.jpg", photo, photoData, "-arithmetic", "-quality", "85", "-sample", "2x2", "-progressive", "-restart", "2")
	g.cjpeg("cj_arith_rgb.jpg", photo, photoData, "-arithmetic", "-quality", "90", "-rgb")
	for _, sz := range [][2]int{{1, 1}, {3, 5}, {17, 9}, {33, 65}, {3, 300}} {
		src, data := g.input("mix", sz[0], sz[1], 3)
		g.cjpeg(fmt.Sprintf("cj_arith_size_%dx%d_2x2.jpg", sz[0], sz[1]), src, data, "-arithmetic", "-quality", "90", "-sample", "2x2")
		g.cjpeg(fmt.Sprintf("cj_arith_size_%dx%d_prog_2x1.jpg", sz[0], sz[1]), src, data, "-arithmetic", "-quality", "90", "-sample", "2x1", "-progressive")
	}
	noise, noiseData := g.input("noise", 40, 40, 3)
	g.cjpeg("cj_arith_noise_q95_2x2.jpg", noise, noiseData, "-arithmetic", "-quality", "95", "-sample", "2x2")
	g.cjpeg("cj_arith_noise_q100_prog_1x1.jpg", noise, noiseData, "-arithmetic", "-quality", "100", "-sample", "1x1", "-progressive")
	for i, script := range scanScripts(false) {
		f := filepath.Join(g.t.TempDir(), "scans.txt")
		os.WriteFile(f, []byte(script), 0o644)
		jpg, err := runTool(photoData, "cjpeg", "-arithmetic", "-quality", "85", "-sample", "2x2", "-scans", f)
		if err != nil {
			g.t.Fatal(err)
		}
		g.reference(fmt.Sprintf("cj_arith_scans%d.jpg", i), jpg, fmt.Sprintf("cjpeg -arithmetic -quality 85 -sample 2x2 -scans <file containing %q> %s", script, photo))
	}
	// Lossless transcodes of Huffman fixtures.
	for _, tc := range []struct{ name, src string }{
		{"jt_arith_q75_2x2.jpg", "cj_q75_2x2.jpg"},
		{"jt_arith_prog_q90_2x1.jpg", "cj_prog_q90_2x1.jpg"},
	} {
		src := readFixtureGen(g.t, tc.src)
		jpg, err := runTool(src, "jpegtran", "-arithmetic")
		if err != nil {
			g.t.Fatal(err)
		}
		g.reference(tc.name, jpg, "jpegtran -arithmetic "+tc.src)
	}
	// Non-default DAC conditioning: cjpeg always writes a DAC marker, but
	// with the defaults L=0, U=1, Kx=5.
	if g.ljref != "" {
		_, _, _, rgb, err := readPNM(photoData)
		if err != nil {
			g.t.Fatal(err)
		}
		for _, c := range []struct {
			l, u, k, prog, q int
		}{{2, 6, 20, 0, 90}, {0, 0, 1, 1, 90}, {15, 15, 63, 1, 100}} {
			name := fmt.Sprintf("lj_arith_dac_L%dU%dK%d", c.l, c.u, c.k)
			if c.prog == 1 {
				name += "_prog"
			}
			args := []string{"arith", fmt.Sprint(c.l), fmt.Sprint(c.u), fmt.Sprint(c.k), fmt.Sprint(c.prog), fmt.Sprint(c.q), "48", "40"}
			jpg, err := runTool(rgb, g.ljref, args...)
			if err != nil {
				g.t.Fatal(err)
			}
			g.reference(name+".jpg", jpg, fmt.Sprintf("ljref %s < raw RGB of %s", strings.Join(args, " "), photo))
		}
	}
	// Damaged arithmetic files. A segment that runs into a marker is legal
	// (zero bytes are decoded from there on, without a warning), so a scan
	// cut short and closed with EOI decodes as libjpeg-turbo decodes it.
	// The zero-filled tail can decode to coefficients whose dequantized
	// values overflow the 16-bit lanes of libjpeg-turbo's SIMD islow IDCT,
	// which then saturates where its C IDCT (jidctint.c, which Decode
	// follows) does not: ok_arith_early_eoi is cut at the first point from
	// the middle on where the two agree (reference: djpeg and Pillow),
	// ok_arith_early_eoi_c in the middle, where they differ (reference:
	// djpeg with SIMD disabled).
	arith := readFixtureGen(g.t, "cj_arith_q75_2x2.jpg")
	sos := bytes.Index(arith, []byte{0xFF, 0xDA})
	mid := sos + (len(arith)-sos)/2
	cut := func(n int) []byte { return append(append([]byte{}, arith[:n]...), 0xFF, 0xD9) }
	cRef := func(jpg []byte) []byte {
		ref, err := runTool(jpg, "env", "JSIMD_FORCENONE=1", "djpeg", "-pnm")
		if err != nil {
			g.t.Fatal(err)
		}
		return ref
	}
	n := mid
	for ; n < len(arith)-2; n++ {
		simd, err := runTool(cut(n), "djpeg", "-pnm")
		if err != nil {
			g.t.Fatal(err)
		}
		if bytes.Equal(simd, cRef(cut(n))) {
			break
		}
	}
	g.reference("ok_arith_early_eoi.jpg", cut(n), fmt.Sprintf("the first %d bytes of cj_arith_q75_2x2.jpg (the first cut from the middle of the scan on where the SIMD and C IDCTs agree) terminated with EOI", n))
	if simd, err := runTool(cut(mid), "djpeg", "-pnm"); err != nil || bytes.Equal(simd, cRef(cut(mid))) {
		g.t.Fatalf("expected SIMD and C IDCT to differ at the middle cut (%v)", err)
	}
	g.write("ok_arith_early_eoi_c.jpg", cut(mid))
	fmt.Fprintf(&g.manifest, "%s\t%s\t%s; reference: JSIMD_FORCENONE=1 djpeg -pnm (libjpeg-turbo's C IDCT; djpeg's SIMD IDCT and Pillow saturate out-of-range values and differ)\n",
		"ok_arith_early_eoi_c.jpg", g.store("ok_arith_early_eoi_c", cRef(cut(mid))), fmt.Sprintf("the first %d bytes of cj_arith_q75_2x2.jpg (the middle of the scan) terminated with EOI", mid))
	g.expectError("err_arith_trunc_half.jpg", arith[:mid], "truncated", "first half of cj_arith_q75_2x2.jpg")
	g.expectError("err_arith_no_eoi.jpg", arith[:len(arith)-2], "truncated", "cj_arith_q75_2x2.jpg without its EOI marker")
	prog := readFixtureGen(g.t, "cj_arith_prog_q75_2x2.jpg")
	g.expectError("err_arith_trunc_prog.jpg", prog[:len(prog)*3/4], "truncated", "first 3/4 of cj_arith_prog_q75_2x2.jpg")
	badDAC := append([]byte{}, arith...)
	dac := bytes.Index(badDAC, []byte{0xFF, 0xCC})
	badDAC[dac+5] = 0x12 // DC table 0: L=2 > U=1
	g.expectError("err_arith_bad_dac.jpg", badDAC, "format", "cj_arith_q75_2x2.jpg with the first DAC value set to 0x12 (L=2 > U=1)")
}

// pnmToImage converts a P5/P6 picture to an image.Image for image/jpeg.
func pnmToImage(b []byte) image.Image {
	w, h, ch, pix, err := readPNM(b)
	if err != nil {
		panic(err)
	}
	if ch == 1 {
		img := image.NewGray(image.Rect(0, 0, w, h))
		copy(img.Pix, pix)
		return img
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = pix[3*i], pix[3*i+1], pix[3*i+2], 255
	}
	return img
}

func readFixtureGen(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
