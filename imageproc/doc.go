// Package imageproc turns an image file into the Qwen3-VL vision tower's
// input, reproducing the Hugging Face image processor of the pinned
// transformers 5.24.0 (Qwen2VLImageProcessor built from a Qwen3-VL
// preprocessor_config.json).
//
// The pipeline is Decode (file → upright 8-bit RGB), SmartResize (the
// target size), Resize (bicubic) and Patchify (normalise and lay out the
// patches); Preprocess and PreprocessFile run it. The package does not
// depend on the model packages.
//
// # Which reference
//
// transformers 5.24.0 has two backends. The default ("fast", used by
// AutoImageProcessor and AutoProcessor) is TorchvisionBackend: a file path
// is decoded by torchvision.io.decode_image(mode=RGB,
// apply_exif_orientation=True) (torchcodec when installed; the pinned
// requirements do not install it), resized by
// torchvision.transforms.v2.functional.resize(BICUBIC, antialias=True) on
// the uint8 tensor, and normalised as (x − 127.5)/127.5 in float32. The PIL
// backend (use_fast=False / backend="pil") decodes with load_image
// (PIL.ImageOps.exif_transpose, then convert("RGB")) and resizes with
// Pillow. Options.Resampler chooses which resize is reproduced; the default
// is the default backend's. Both are bit-exact on every fixture under
// testdata/imageproc. The two references differ from each other: by one
// level on 0.1–0.5 % of the values of ordinary images (int16 weights with
// 14–17 fractional bits in ATen, 22 bits in Pillow), and on high-contrast
// images whose height shrinks while the width grows by up to 21 levels on
// a quarter of the values (Pillow 13 then runs the vertical pass first).
//
// # Decoding rules
//
// Decode follows the default backend's decoder, and load_image where
// torchvision cannot decode (BMP, TIFF) or skips something load_image does
// (EXIF orientation in WebP):
//
//   - Alpha is dropped, keeping the stored colour (both references do this
//     for files: decode_image(mode=RGB) strips it, load_image converts to
//     RGB before the processor's composite-on-white convert_to_rgb could
//     see it). That includes PNG tRNS colour keys; the PIL backend turns
//     colour-key pixels white instead (its convert_to_rgb sees the key that
//     survives convert("RGB")).
//   - Gray is replicated to three channels; palette images are expanded.
//   - 16-bit samples keep their high byte. (The default backend decodes
//     16-bit PNGs as uint16 and then normalises them as if 8-bit, giving
//     values up to ~513; the PIL backend keeps the high byte for RGB(A) but
//     clips 16-bit gray to 0..255, i.e. mostly white. Neither is usable.)
//   - GIF: the first frame at its own size; transparent pixels take the
//     background colour (giflib via torchvision). The default backend
//     turns every frame of an animated GIF into a separate image.
//   - EXIF orientation 2..8 is applied as exif_transpose does, from the
//     first JPEG APP1 "Exif" segment, the PNG eXIf chunk, the WebP EXIF
//     chunk or a TIFF file's own IFD0.
//   - JPEG: internal/jpeg, a re-implementation of libjpeg-turbo's default
//     decompression (islow IDCT, fancy upsampling, block smoothing,
//     fixed-point YCbCr→RGB), reads both the header and the pixels, which
//     are bit-exact with libjpeg-turbo and so with Pillow (and torchvision
//     on the fixtures here): baseline, extended and progressive files,
//     Huffman- or arithmetic-coded, in every sampling layout libjpeg
//     accepts (testdata/jpeg). CMYK/YCCK is converted as Pillow does. Lossy
//     WebP uses libwebp's upsampler and conversion and matched libwebp
//     exactly on the fixtures.
//   - Images whose header declares more than Options.MaxDecodePixels pixels
//     are refused before decoding; truncated or corrupt files are errors
//     naming the file.
//
// # Reading
//
// The file entry points (DecodeFile, PreprocessFile, LoadVideo, LoadFrames,
// PreprocessVideoFile) take a context.Context that stops the reading: it is
// checked before every read, between video frames, and kills ffmpeg. Only
// regular files are read: a FIFO, a device such as /dev/zero or a socket is
// refused (ErrNotRegular) before anything is read. More than
// Options.MaxFileBytes bytes (default 1 GiB) are never read (ErrTooLarge),
// and reading stops where the image ends: bytes after it are not read
// (WebP is read up to its RIFF size; TIFF by random access).
//
// # Sizes
//
// SmartResize is the reference's smart_resize: sides rounded half-to-even
// to multiples of PatchSize·MergeSize (32), the area brought into
// [MinPixels, MaxPixels], aspect ratios above 200 rejected (ErrAspectRatio).
// There is no lower bound on the input: a 1×1 image becomes 256×256 with
// the Qwen3-VL budget.
//
// # Video
//
// PreprocessVideo, LoadVideo, LoadFrames and PreprocessVideoFile reproduce
// the pinned Qwen3VLVideoProcessor (frame sampling, VideoSmartResize with
// the T×H×W budget, padding to whole temporal patches, the same bicubic
// resize per frame) and the timestamps of Qwen3VLProcessor, from a folder
// of frames, an animated GIF or, through ffmpeg, any video file; see
// docs/VIDEO.md.
package imageproc
