package jpeg

// FormatError reports that the input is not a valid JPEG stream, or that it
// is damaged in a way this decoder refuses to paper over.
type FormatError string

func (e FormatError) Error() string { return "jpeg: invalid format: " + string(e) }

// UnsupportedError reports that the input uses a valid JPEG feature that this
// decoder (and, for the listed features, libjpeg-turbo's default build or
// Pillow) does not decode: lossless or hierarchical processes, sample
// precisions other than 8 bits, unusual component counts, non-integral
// sampling ratios, or images larger than MaxPixels.
type UnsupportedError string

func (e UnsupportedError) Error() string { return "jpeg: unsupported feature: " + string(e) }

// ErrTruncated is returned when the input ends before the image data is
// complete. Pillow reports the same condition as "image file is truncated".
var ErrTruncated error = FormatError("image file is truncated")

// MaxPixels is the largest width×height that Decode accepts. Larger frames
// are refused before any image memory is allocated; DecodeConfig reports
// their size without an error.
const MaxPixels = 1 << 30

// maxDimension is libjpeg's JPEG_MAX_DIMENSION.
const maxDimension = 65500

// maxScans bounds the number of scans in one image. Real progressive files
// have a few dozen at most; without a bound a small hostile file could make
// the decoder walk every block of a large image thousands of times.
const maxScans = 1000
