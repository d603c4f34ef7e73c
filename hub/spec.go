package hub

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// DefaultModel is the hub id of the model used when none is given.
const DefaultModel = "Qwen/Qwen3-VL-2B-Instruct"

// DefaultRevision is the revision used when a hub id has no "@revision".
const DefaultRevision = "main"

// repoPartRE matches one part (namespace or name) of a hub repository id: letters, digits,
// '_', '-' and '.', at most 96 characters (huggingface_hub's REPO_ID_REGEX).
var repoPartRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,96}$`)

// commitRE matches a full commit hash (huggingface_hub's REGEX_COMMIT_HASH).
var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// isCommit reports whether rev is a full commit hash.
func isCommit(rev string) bool { return commitRE.MatchString(rev) }

// ParseSpec interprets a -model value. It is one of
//
//   - a local folder: an existing directory, or anything that looks like a path (it starts
//     with "/", "./", "../" or "~", has more than one "/", or has a backslash or a drive
//     letter). isLocal is true; the folder is not checked further.
//   - a hub id "Org/Name" optionally followed by "@revision" (a branch, tag or commit
//     hash); revision is DefaultRevision when none is given. An existing folder of the same
//     name takes precedence over the hub id, as in transformers' from_pretrained.
//
// "random:PRESET" is not handled here. The returned error says what is wrong with spec.
func ParseSpec(spec string) (repo, revision string, isLocal bool, err error) {
	if spec == "" {
		return "", "", false, errors.New("hub: empty model: give a checkpoint folder or a hub id such as " + DefaultModel)
	}
	if fi, err := os.Stat(spec); err == nil && fi.IsDir() {
		return "", "", true, nil
	}
	if looksLikePath(spec) {
		return "", "", true, nil
	}
	id, rev, hasRev := strings.Cut(spec, "@")
	if err := validateRepoID(id); err != nil {
		return "", "", false, fmt.Errorf("hub: %q is neither an existing folder nor a hub model id Org/Name[@revision]: %w", spec, err)
	}
	if !hasRev {
		return id, DefaultRevision, false, nil
	}
	if err := validateRevision(rev); err != nil {
		return "", "", false, fmt.Errorf("hub: %q: %w", spec, err)
	}
	return id, rev, false, nil
}

// looksLikePath reports whether spec can only be a file-system path.
func looksLikePath(spec string) bool {
	switch {
	case strings.HasPrefix(spec, "/"), strings.HasPrefix(spec, "./"), strings.HasPrefix(spec, "../"),
		strings.HasPrefix(spec, "~"), spec == ".", spec == "..",
		strings.ContainsRune(spec, '\\'), filepath.IsAbs(spec), filepath.VolumeName(spec) != "":
		return true
	}
	id, _, _ := strings.Cut(spec, "@")
	return strings.Count(id, "/") > 1
}

// validateRepoID checks that id is "Org/Name" as the hub spells repository ids.
func validateRepoID(id string) error {
	org, name, ok := strings.Cut(id, "/")
	if !ok {
		return errors.New("a hub id has the form Org/Name")
	}
	for _, part := range []string{org, name} {
		switch {
		case !repoPartRE.MatchString(part):
			return fmt.Errorf("%q: ids use letters, digits, '-', '_' and '.' (at most 96 per part)", part)
		case strings.HasPrefix(part, "-"), strings.HasPrefix(part, "."),
			strings.HasSuffix(part, "-"), strings.HasSuffix(part, "."):
			return fmt.Errorf("%q: a part of an id cannot start or end with '-' or '.'", part)
		case strings.Contains(part, "--"), strings.Contains(part, ".."):
			return fmt.Errorf("%q: an id cannot contain \"--\" or \"..\"", part)
		}
	}
	if strings.HasSuffix(name, ".git") {
		return errors.New("an id cannot end with .git")
	}
	return nil
}

// validateRevision checks that rev can name a branch, tag or commit, and can be stored as a
// relative path under refs/ (as the Hugging Face cache does): no empty, "." or ".."
// components, no backslashes, spaces or control characters.
func validateRevision(rev string) error {
	if rev == "" {
		return errors.New("empty revision after '@'")
	}
	if len(rev) > 255 {
		return errors.New("revision is longer than 255 characters")
	}
	for _, r := range rev {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '\\' || r == ':' {
			return fmt.Errorf("revision %q contains %q", rev, r)
		}
	}
	for _, c := range strings.Split(rev, "/") {
		if c == "" || c == "." || c == ".." {
			return fmt.Errorf("revision %q is not a branch, tag or commit name", rev)
		}
	}
	return nil
}

// repoFolder returns the folder name of a repository in our cache: "Org--Name".
func repoFolder(repo string) string { return strings.ReplaceAll(repo, "/", "--") }

// hfRepoFolder returns the folder name of a model repository in the Hugging Face cache:
// "models--Org--Name" (huggingface_hub's repo_folder_name).
func hfRepoFolder(repo string) string { return "models--" + repoFolder(repo) }
