// Package jpeg is a pure-Go JPEG decoder whose output is bit-exact with
// libjpeg-turbo's default decompression, i.e. what `djpeg -ppm` prints and
// what Pillow's Image.open(...).convert() sees for the same file.
//
// # Exactness goal
//
// Go's image/jpeg produces visually equivalent but numerically different
// pixels from libjpeg-turbo: it uses a different inverse DCT, no "fancy"
// (triangular) chroma upsampling and a different YCbCr→RGB rounding. Models
// trained on Pillow-decoded images see libjpeg-turbo's exact numbers, so this
// package re-implements libjpeg-turbo's default decompression path
// (JDCT_ISLOW, do_fancy_upsampling=TRUE, do_block_smoothing=TRUE, no merged
// upsampling, no DCT scaling) step by step:
//
//   - decode.go:      the decoding pipeline, buffering and colour-space
//     choice (jdapimin.c, jdinput.c, jdmaster.c); source.go reads the input.
//   - marker.go:      marker parsing and validation (jdmarker.c, jdinput.c,
//     jdapimin.c colour-space guessing).
//   - huffman.go:     Huffman tables and the entropy-coded-segment bit reader
//     (jdhuff.c), including restart-marker resynchronisation.
//   - scan.go:        MCU iteration and restart markers for every scan type.
//   - sequential.go:  baseline / extended sequential scans (jdhuff.c).
//   - progressive.go: progressive scans with spectral selection and
//     successive approximation (jdphuff.c).
//   - arith.go:       arithmetic-coded scans, sequential (SOF9) and
//     progressive (SOF10), with DAC conditioning and restart intervals
//     (jdarith.c; ITU-T T.81 Annex D, F.1.4.4, F.2.4, G.1.3, G.2).
//   - idct.go:        the accurate integer "islow" IDCT with libjpeg's
//     wrap-around range limiting (jidctint.c, jdmaster.c).
//   - smooth.go:      inter-block smoothing of not-fully-coded progressive
//     images (jdcoefct.c decompress_smooth_data).
//   - upsample.go:    h2v1/h2v2/h1v2 fancy upsampling and the generic box
//     replication (jdsample.c), with libjpeg's edge/context-row rules.
//   - color.go:       fixed-point YCbCr→RGB and YCCK→CMYK (jdcolor.c).
//
// The references used while writing and testing this package are Debian's
// djpeg (libjpeg-turbo 2.1.5) and Pillow 13.0.0 (libjpeg-turbo 3.2.0); see
// testdata/jpeg/README.md.
//
// # Outputs
//
// DecodeConfig parses the same markers with the same code, up to the frame
// header, and so accepts exactly the headers Decode accepts, except that it
// reports images larger than MaxPixels instead of refusing them.
//
// Decode returns *image.Gray for one-component files, *image.RGBA (alpha
// 255) for three-component files (YCbCr converted to RGB, or RGB passed
// through), and *image.CMYK for four-component files. The CMYK samples are
// exactly libjpeg's JCS_CMYK output: Adobe CMYK files are returned as stored
// (Adobe-inverted, 0 = full ink), and YCCK is converted to that same
// inverted CMYK. Pillow's "CMYK" image for such a file is 255 minus these
// samples; image.CMYK's At/RGBA methods do NOT know about the inversion.
//
// # Errors
//
// libjpeg-turbo turns most stream damage into warnings and pads with zero
// bits. This package is stricter, following what Pillow does by default
// (ImageFile.LOAD_TRUNCATED_IMAGES=False) for truncation: input that ends
// before the EOI marker returns ErrTruncated, even when the image data itself
// was complete (Pillow: "image file is truncated"). Corrupt entropy-coded
// data (an invalid Huffman code, a scan that runs into a marker before all
// its MCUs are decoded, a restart marker that cannot be resynchronised)
// returns a FormatError, where Pillow would return a partly gray image.
// Conditions that libjpeg-turbo accepts silently (garbage bytes between
// markers, coefficient runs past the end of a block, wrongly numbered
// restart markers that it can resynchronise) are accepted here too, with
// identical pixels. In arithmetic-coded scans, running into a marker before
// the last MCU is legal (encoders drop the final zero bytes), so the rest is
// decoded from zero bytes as libjpeg-turbo does; the end of input inside a
// scan is ErrTruncated, and a magnitude or run that overflows (jdarith.c
// warns and skips to the next restart) a FormatError. Lossless/hierarchical
// JPEG and 12-bit samples return an UnsupportedError.
//
// Damaged or crafted data can decode to coefficients whose dequantized
// values exceed what a forward DCT of 8-bit samples produces and overflow
// 16-bit arithmetic. Decode then gives the numbers of libjpeg-turbo's C IDCT
// (jidctint.c, what it runs with JSIMD_FORCENONE=1); its x86 SIMD IDCT,
// which djpeg and Pillow use, saturates instead and differs
// (testdata/jpeg/ok_arith_early_eoi_c.jpg). Files encoded from real samples
// stay in range, where the two agree.
//
// # libjpeg-turbo versions
//
// libjpeg-turbo 2.x and 3.x produce identical pixels except for the block
// smoothing of progressive files whose scans leave low-frequency
// coefficients incomplete, where 3.0 changed the edge rules. Decode follows
// 3.x (Pillow 13 bundles libjpeg-turbo 3.2.0); the tests also check a 2.x
// mode against Debian 12's djpeg 2.1.5.
package jpeg
