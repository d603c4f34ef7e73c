package hub

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/text"
	"github.com/qwen3vl/qwen3vl/vision"
)

// Our cache:
//
//	<CacheDir>/models/Org--Name/
//	    <commit>/              a complete vision-only checkpoint; appears only by rename
//	        config.json (+ preprocessor_config.json, ... when the repo has them)
//	        model.safetensors  the vision tower's tensors, names, dtypes and bytes as published
//	        source.json        where every tensor came from
//	    full/<commit>/         the same for a full download (Options.Text): model.safetensors
//	                           holds the language model's tensors too
//	    full/.partial-<commit>/, full/.lock-<commit>   as below, for full downloads
//	    refs/<revision>        the commit a branch or tag resolved to when last downloaded
//	    .partial-<commit>/     a download under way or interrupted (resumable)
//	    .lock-<commit>         held while downloading <commit>
//
// The Hugging Face cache, read and never written:
//
//	<HFCacheDir>/models--Org--Name/
//	    refs/<revision>        a commit hash
//	    snapshots/<commit>/... files, usually symlinks into ../../blobs/

// modelDir is the folder of repo in our cache.
func modelDir(opts *Options, repo string) string {
	return filepath.Join(opts.CacheDir, "models", repoFolder(repo))
}

// fullFolder is the subfolder of modelDir holding full (vision and language) downloads. It
// cannot be mistaken for a commit folder, so caches written before full downloads existed
// stay valid, as vision-only.
const fullFolder = "full"

// snapshotsDir is the folder of repo's downloaded snapshots of the tensor set opts asks
// for: modelDir, or its fullFolder with opts.Text. The lock and partial folders of a
// download live there too; refs/ stays in modelDir.
func snapshotsDir(opts *Options, repo string) string {
	if opts.Text {
		return filepath.Join(modelDir(opts, repo), fullFolder)
	}
	return modelDir(opts, repo)
}

// isFile reports whether path names a regular file (following symlinks).
func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// readRef reads the commit stored in <dir>/refs/<rev>.
func readRef(dir, rev string) (string, bool) {
	b, err := fsutil.ReadFile(filepath.Join(dir, "refs", filepath.FromSlash(rev)), 4<<10) // a commit hash
	if err != nil {
		return "", false
	}
	c := strings.TrimSpace(string(b))
	return c, isCommit(c)
}

// writeRef records that rev resolved to commit in our cache, atomically.
func writeRef(dir, rev, commit string) error {
	path := filepath.Join(dir, "refs", filepath.FromSlash(rev))
	if c, ok := readRef(dir, rev); ok && c == commit {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(path, []byte(commit))
}

// writeFileAtomic writes b to path with the module's durability policy (fsutil.WriteFile).
func writeFileAtomic(path string, b []byte) error {
	return fsutil.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// ourSnapshot returns the folder of repo at commit in our cache if it is complete and holds
// the tensor set opts asks for: a full request takes only a full download; a vision-only
// request takes a vision-only download, else a full one.
func ourSnapshot(opts *Options, repo, commit string) string {
	dirs := []string{filepath.Join(snapshotsDir(opts, repo), commit)}
	if !opts.Text {
		dirs = append(dirs, filepath.Join(modelDir(opts, repo), fullFolder, commit))
	}
	for _, dir := range dirs {
		if completeSnapshot(dir) {
			return dir
		}
	}
	return ""
}

// completeSnapshot reports whether dir has the files every finished download has.
func completeSnapshot(dir string) bool {
	for _, f := range []string{"config.json", safetensors.SingleFileName, sourceFileName} {
		if !isFile(filepath.Join(dir, f)) {
			return false
		}
	}
	return true
}

// hfSnapshot returns the snapshot folder of repo at commit in the Hugging Face cache if the
// vision loader (and with opts.Text the text loader) can use it: it has a Qwen3-VL
// config.json, and model.safetensors or model.safetensors.index.json, which
// safetensors.OpenDir opens as vision.Load and text.Load do (the same index parser and shard
// name rule; every shard holding a requested tensor present and holding what the index
// assigns to it) with vision tensors in it, and with opts.Text language tensors too. Otherwise it returns "" and, in
// why, the reason (empty if the snapshot does not exist). err reports a snapshot that exists
// and is complete but can never work (not a Qwen3-VL model, no vision weights), so that no
// download is attempted. Nothing in the cache is modified.
func hfSnapshot(opts *Options, repo, commit string) (dir, why string, err error) {
	if opts.HFCacheDir == "" {
		return "", "", nil
	}
	dir = filepath.Join(opts.HFCacheDir, hfRepoFolder(repo), "snapshots", commit)
	if _, err := os.Stat(dir); err != nil {
		return "", "", nil
	}
	cfg := filepath.Join(dir, "config.json")
	if !isFile(cfg) {
		return "", "no config.json", nil
	}
	b, err := fsutil.ReadFile(cfg, vision.MaxConfigBytes)
	if err != nil {
		return "", err.Error(), nil
	}
	if err := checkConfig(repo, b); err != nil {
		return "", "", err
	}
	weights := safetensors.SingleFileName
	if !isFile(filepath.Join(dir, weights)) {
		weights = safetensors.IndexFileName
		if !isFile(filepath.Join(dir, weights)) {
			return "", "no " + safetensors.SingleFileName + " or " + safetensors.IndexFileName, nil
		}
	}
	// The weights are opened exactly as vision.Load opens them (the same index parser, shard
	// name rule and shard checks), so that a snapshot accepted here loads there.
	set, err := safetensors.OpenDir(dir, opts.wants)
	if err != nil {
		return "", err.Error(), nil
	}
	names := set.Names()
	set.Close()
	if !slices.ContainsFunc(names, isVisionTensor) {
		return "", "", noVisionError(repo, weights)
	}
	if opts.Text && !slices.ContainsFunc(names, isTextTensor) {
		return "", "", noTextError(repo, weights)
	}
	return dir, "", nil
}

// checkConfig fails unless config.json is a Qwen3-VL (or Qwen3-VL-MoE) config whose vision
// tower the vision package can run.
func checkConfig(repo string, b []byte) error {
	var top struct {
		ModelType *string `json:"model_type"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return newError(ErrUnsupported, err, "%s: config.json is not a JSON object: %v", repo, err)
	}
	switch {
	case top.ModelType == nil:
		return newError(ErrUnsupported, nil, "%s: config.json has no model_type; want a Qwen3-VL checkpoint (model_type qwen3_vl or qwen3_vl_moe) such as %s", repo, DefaultModel)
	case *top.ModelType != "qwen3_vl" && *top.ModelType != "qwen3_vl_moe":
		return newError(ErrUnsupported, nil, "%s is a %q model, not Qwen3-VL (model_type qwen3_vl or qwen3_vl_moe); pick a Qwen3-VL checkpoint such as %s", repo, *top.ModelType, DefaultModel)
	}
	if _, err := vision.ParseConfig(b); err != nil {
		return newError(ErrUnsupported, err, "%s: config.json: %v", repo, err)
	}
	return nil
}

// isVisionTensor reports whether the vision tower needs the named tensor: the rule
// vision.Load reads checkpoints by.
var isVisionTensor = vision.IsTensor

// isTextTensor reports whether the language model needs the named tensor: the rule
// text.Load reads checkpoints by.
var isTextTensor = text.IsTensor

// wantedShards parses a model.safetensors.index.json with safetensors.ParseIndex (the parser
// and shard name rule vision.Load and text.Load use) and returns, sorted, the shards holding
// tensors opts asks for, and the weight map. The index must list vision tensors, and with
// opts.Text language tensors too.
func wantedShards(opts *Options, repo string, index []byte) ([]string, map[string]string, error) {
	ix, err := safetensors.ParseIndex(index)
	if err != nil {
		return nil, nil, newError(ErrCorrupt, err, "%s: %s: %v", repo, safetensors.IndexFileName, err)
	}
	names := slices.Collect(maps.Keys(ix.WeightMap))
	if !slices.ContainsFunc(names, isVisionTensor) {
		return nil, nil, noVisionError(repo, safetensors.IndexFileName)
	}
	if opts.Text && !slices.ContainsFunc(names, isTextTensor) {
		return nil, nil, noTextError(repo, safetensors.IndexFileName)
	}
	return ix.Shards(opts.wants), ix.WeightMap, nil
}

// noTextError reports a checkpoint without language model tensors, for a full request.
func noTextError(repo, where string) error {
	return newError(ErrUnsupported, nil,
		"%s has no language model weights: %s has no tensor named model.language_model.* or lm_head.weight; it cannot answer prompts (its vision tower alone can be used by vision commands)",
		repo, where)
}

// noVisionError reports a checkpoint without vision tower tensors.
func noVisionError(repo, where string) error {
	return newError(ErrNoVisionWeights, nil,
		"%s has no vision tower weights: %s has no tensor named patch_embed.*, pos_embed.*, blocks.*, merger.* or deepstack_merger_list.* (under model.visual., visual. or no prefix); it is not a Qwen3-VL checkpoint with a vision tower",
		repo, where)
}

// describeCaches names the places looked in, for messages.
func describeCaches(opts *Options, repo string) string {
	s := modelDir(opts, repo)
	if opts.HFCacheDir != "" {
		s += " and " + filepath.Join(opts.HFCacheDir, hfRepoFolder(repo))
	}
	return s
}

// isNotExist reports whether err says a file does not exist.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
