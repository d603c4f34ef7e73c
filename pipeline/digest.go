package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

// digestVersion names the rules below; a change of them changes every digest.
const digestVersion = "qwen3vl-weights-digest-v1"

// Digest is a stable digest of the weights the pipeline's tower was loaded from and of its
// configuration: the same checkpoint gives the same digest on any machine and in any folder,
// and any change to a weight the tower reads gives another. It is "sha256:" and 64 hex digits
// of SHA-256 over, in order, digestVersion and the spec's kind, then:
//
//   - a checkpoint folder or hub snapshot: config.json's bytes, then for every tensor the
//     tower reads (vision.IsTensor), in name order, its name, dtype, shape and bytes. The
//     bytes are those Load has just read, so this reads each tensor once more, mostly from
//     the page cache (SHA-256 ran at 1.8 GB/s on one core of the development machine, with
//     the SHA extensions: about half a second for a 2B tower's 0.8 GB of bf16 weights);
//   - a GGUF file (also an ollama blob): the whole file's bytes;
//   - random:PRESET@SEED: the tower's configuration as JSON and the seed (the synthetic
//     weights are a function of both).
//
// How the weights are held (f32 or bf16) and the arithmetic are not part of it: a caller that
// keys outputs by it adds those.
func (p *Pipeline) Digest(ctx context.Context) (string, error) {
	h := sha256.New()
	field(h, digestVersion)
	field(h, strconv.Itoa(int(p.Spec.Kind)))
	switch p.Spec.Kind {
	case Random:
		cfg, err := json.Marshal(p.Config)
		if err != nil {
			return "", fmt.Errorf("pipeline: digest: %w", err)
		}
		field(h, string(cfg))
		field(h, strconv.FormatUint(p.Spec.Seed, 10))
	case GGUF:
		if err := hashFile(ctx, h, p.File); err != nil {
			return "", err
		}
	case Folder, Hub:
		if err := hashCheckpoint(ctx, h, p.Dir); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("pipeline: digest: model spec %q has no kind", p.Spec.Text)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// field writes s to h prefixed by its length, so that consecutive fields cannot run together.
func field(h hash.Hash, s string) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	io.WriteString(h, s)
}

// hashCheckpoint hashes dir's config.json and the tower's tensors.
func hashCheckpoint(ctx context.Context, h hash.Hash, dir string) error {
	cfg, err := fsutil.ReadFile(filepath.Join(dir, "config.json"), 16<<20)
	if err != nil {
		return fmt.Errorf("pipeline: digest: %w", err)
	}
	field(h, string(cfg))
	set, err := safetensors.OpenDir(dir, vision.IsTensor)
	if err != nil {
		return fmt.Errorf("pipeline: digest: %w", err)
	}
	defer set.Close()
	for _, name := range set.Names() {
		if err := ctx.Err(); err != nil {
			return err
		}
		info, _ := set.Info(name)
		b, err := set.Bytes(name)
		if err != nil {
			return fmt.Errorf("pipeline: digest: %w", err)
		}
		field(h, name)
		field(h, string(info.DType))
		field(h, fmt.Sprint(info.Shape))
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	return nil
}

// hashFile hashes a whole file, stopping when ctx is done.
func hashFile(ctx context.Context, h hash.Hash, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("pipeline: digest: %w", err)
	}
	defer f.Close()
	buf := make([]byte, 4<<20)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("pipeline: digest: %s: %w", path, err)
		}
	}
}
