package hub

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Resolve turns a -model value into a local checkpoint folder that vision.Load can read.
//
// A local folder is returned as is (after expanding a leading "~"), once checked to be a
// folder. A hub id "Org/Name[@revision]" (revision defaults to "main") is looked up, in
// this order:
//
//  1. If the revision is a commit hash: our cache, then the Hugging Face cache, without
//     touching the network.
//  2. Offline (opts.Offline): the commit the revision last resolved to, per refs/<revision>
//     in our cache, then in the Hugging Face cache; otherwise an error matching ErrNotCached.
//  3. Online: one request to the hub's revision API gives the current commit, which is then
//     looked for in both caches. If the hub cannot be asked (no network, server error...)
//     but a cached commit for the revision exists, that one is used and the reason logged.
//  4. Otherwise the vision tower (with opts.Text, the vision tower and the language model)
//     is downloaded into our cache (see the package documentation) and its folder returned.
//
// A Hugging Face cache snapshot is used in place and never modified. Errors match one of
// the package's sentinel errors and say what to do.
func Resolve(ctx context.Context, spec string, opts Options) (string, error) {
	repo, rev, local, err := ParseSpec(spec)
	if err != nil {
		return "", err
	}
	if local {
		dir := expandHome(spec)
		fi, err := os.Stat(dir)
		if err != nil {
			if isNotExist(err) {
				return "", fmt.Errorf("hub: model folder %s does not exist (give a checkpoint folder, or a hub id such as %s)", spec, DefaultModel)
			}
			return "", fmt.Errorf("hub: model folder: %w", err)
		}
		if !fi.IsDir() {
			return "", fmt.Errorf("hub: %s is not a folder (want a checkpoint folder with config.json and safetensors weights)", spec)
		}
		return dir, nil
	}
	if opts, err = opts.withDefaults(); err != nil {
		return "", err
	}
	r := &resolver{opts: &opts, repo: repo, rev: rev}
	return r.resolve(ctx)
}

// resolver resolves one hub id.
type resolver struct {
	opts *Options
	repo string
	rev  string
}

func (r *resolver) resolve(ctx context.Context) (string, error) {
	opts, repo, rev := r.opts, r.repo, r.rev
	if isCommit(rev) {
		if dir, err := r.cached(rev); dir != "" || err != nil {
			return dir, err
		}
	}
	if opts.Offline {
		if dir, err := r.cachedRef(); dir != "" || err != nil {
			return dir, err
		}
		return "", newError(ErrNotCached, nil, "%s@%s is not in the cache (looked in %s) and HF_HUB_OFFLINE is set, so it cannot be downloaded; unset HF_HUB_OFFLINE to download it, or give a local checkpoint folder instead",
			repo, rev, describeCaches(opts, repo))
	}
	c, err := newClient(opts, repo)
	if err != nil {
		return "", err
	}
	info, err := c.revisionInfo(ctx, rev)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if !isCommit(rev) {
			if dir, cerr := r.cachedRef(); dir != "" && cerr == nil {
				opts.logf("hub: could not check %s@%s for updates, using the cached copy: %v", repo, rev, err)
				return dir, nil
			}
		}
		return "", err
	}
	if dir, err := r.cached(info.SHA); dir != "" || err != nil {
		if dir != "" && dir == ourSnapshot(opts, repo, info.SHA) && rev != info.SHA {
			if werr := writeRef(modelDir(opts, repo), rev, info.SHA); werr != nil {
				opts.logf("hub: could not record %s@%s = %s: %v", repo, rev, short(info.SHA), werr)
			}
		}
		return dir, err
	}
	d := &downloader{opts: opts, c: c, repo: repo, rev: rev, info: info, commit: info.SHA}
	return d.download(ctx)
}

// cached returns the folder of commit in our cache or, usable, in the Hugging Face cache.
func (r *resolver) cached(commit string) (string, error) {
	if dir := ourSnapshot(r.opts, r.repo, commit); dir != "" {
		r.opts.logf("hub: using %s@%s from %s", r.repo, short(commit), dir)
		return dir, nil
	}
	dir, why, err := hfSnapshot(r.opts, r.repo, commit)
	if err != nil {
		return "", err
	}
	if dir != "" {
		r.opts.logf("hub: using %s@%s from the Hugging Face cache: %s", r.repo, short(commit), dir)
		return dir, nil
	}
	if why != "" {
		r.opts.logf("hub: the Hugging Face cache has %s@%s but cannot be used: %s", r.repo, short(commit), why)
	}
	return "", nil
}

// cachedRef returns a cached folder for the revision, found through the refs/ files of our
// cache, then of the Hugging Face cache.
func (r *resolver) cachedRef() (string, error) {
	if isCommit(r.rev) {
		return r.cached(r.rev)
	}
	if c, ok := readRef(modelDir(r.opts, r.repo), r.rev); ok {
		if dir, err := r.cached(c); dir != "" || err != nil {
			return dir, err
		}
	}
	if r.opts.HFCacheDir != "" {
		if c, ok := readRef(filepath.Join(r.opts.HFCacheDir, hfRepoFolder(r.repo)), r.rev); ok {
			if dir, err := r.cached(c); dir != "" || err != nil {
				return dir, err
			}
		}
	}
	return "", nil
}
