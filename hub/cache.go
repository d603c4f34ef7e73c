package hub

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

// Our cache:
//
//	<CacheDir>/models/Org--Name/
//	    <commit>/              a complete vision-only checkpoint; appears only by rename
//	        config.json (+ preprocessor_config.json, ... when the repo has them)
//	        model.safetensors  the vision tower's tensors, names, dtypes and bytes as published
//	        source.json        where every tensor came from
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

// isFile reports whether path names a regular file (following symlinks).
func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// readRef reads the commit stored in <dir>/refs/<rev>.
func readRef(dir, rev string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "refs", filepath.FromSlash(rev)))
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

// ourSnapshot returns the folder of repo at commit in our cache if it is complete.
func ourSnapshot(opts *Options, repo, commit string) string {
	dir := filepath.Join(modelDir(opts, repo), commit)
	for _, f := range []string{"config.json", safetensors.SingleFileName, sourceFileName} {
		if !isFile(filepath.Join(dir, f)) {
			return ""
		}
	}
	return dir
}

// hfSnapshot returns the snapshot folder of repo at commit in the Hugging Face cache if the
// vision loader can use it: it has config.json, and model.safetensors or an index whose
// every shard holding vision tensors is present. Otherwise it returns "" and, in why, the
// reason (empty if the snapshot does not exist). err reports a snapshot that exists and is
// complete but can never work (not a Qwen3-VL model, no vision weights), so that no
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
	if !isFile(filepath.Join(dir, safetensors.SingleFileName)) {
		index := filepath.Join(dir, safetensors.IndexFileName)
		if !isFile(index) {
			return "", "no " + safetensors.SingleFileName + " or " + safetensors.IndexFileName, nil
		}
		b, err := os.ReadFile(index)
		if err != nil {
			return "", err.Error(), nil
		}
		shards, err := visionShards(repo, b)
		if errors.Is(err, ErrNoVisionWeights) {
			return "", "", err
		}
		if err != nil {
			return "", err.Error(), nil
		}
		for _, s := range shards {
			if !isFile(filepath.Join(dir, filepath.FromSlash(s))) {
				return "", "shard " + s + " is missing", nil
			}
		}
	}
	b, err := os.ReadFile(cfg)
	if err != nil {
		return "", err.Error(), nil
	}
	if err := checkConfig(repo, b); err != nil {
		return "", "", err
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

// parseIndex returns the weight map of a model.safetensors.index.json.
func parseIndex(repo string, b []byte) (map[string]string, error) {
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, newError(ErrCorrupt, err, "%s: %s is not valid JSON: %v", repo, safetensors.IndexFileName, err)
	}
	if idx.WeightMap == nil {
		return nil, newError(ErrCorrupt, nil, "%s: %s has no \"weight_map\"", repo, safetensors.IndexFileName)
	}
	for name, shard := range idx.WeightMap {
		if !validShardName(shard) {
			return nil, newError(ErrCorrupt, nil, "%s: %s maps %q to %q, not a .safetensors file of the repository", repo, safetensors.IndexFileName, name, shard)
		}
	}
	return idx.WeightMap, nil
}

// validShardName reports whether a shard name from an index is a safe relative path.
func validShardName(s string) bool {
	return strings.HasSuffix(s, ".safetensors") && !strings.ContainsAny(s, "\\\x00") &&
		filepath.IsLocal(filepath.FromSlash(s)) && !strings.HasPrefix(s, "/")
}

// visionShards returns, sorted, the shards of an index that hold vision tensors.
func visionShards(repo string, index []byte) ([]string, error) {
	wm, err := parseIndex(repo, index)
	if err != nil {
		return nil, err
	}
	var shards []string
	for name, shard := range wm {
		if isVisionTensor(name) && !slices.Contains(shards, shard) {
			shards = append(shards, shard)
		}
	}
	if len(shards) == 0 {
		return nil, noVisionError(repo, safetensors.IndexFileName)
	}
	slices.Sort(shards)
	return shards, nil
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
