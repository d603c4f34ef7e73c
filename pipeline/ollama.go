package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
)

// ollama's model store, as ollama's own source (github.com/ollama/ollama, read at commit
// fb30760996871fa9460115c753afd2c60d4ab0f7) lays it out:
//
//   - the store is $OLLAMA_MODELS, else ~/.ollama/models (envconfig/config.go, Models);
//   - a model NAME[:TAG] is host/namespace/model:tag with the defaults registry.ollama.ai,
//     library and latest (types/model/name.go: DefaultName, ParseNameBare: the tag follows the
//     last ':' when it comes after the last '/'), and each part's characters are checked
//     there (isValidPart), which also keeps "." and ".." out of paths;
//   - its manifest is manifests/HOST/NAMESPACE/MODEL/TAG (types/model/name.go, Filepath;
//     manifest/paths.go, PathForName), JSON with layers[] of {mediaType, digest, size}
//     (manifest/manifest.go, manifest/layer.go);
//   - a layer's blob is blobs/sha256-HEX for the digest sha256:HEX (manifest/paths.go,
//     BlobsPath);
//   - the projector (a llama.cpp mmproj GGUF) is the layer of media type
//     application/vnd.ollama.image.projector (server/images.go, GetModel; server/create.go
//     writes it).
//
// The models ollama publishes for Qwen3-VL are single GGUF files holding both the language
// model and the vision tower in ollama's own layout (convert/convert_qwen3vl.go writes one
// file unless asked for a projector; llama/compat/llama-ollama-compat.cpp rewrites such files
// into llama.cpp's names when loading), with no projector layer (read from the source, not
// seen in a pulled model): those are refused with a message saying so. A model whose
// projector is a separate llama.cpp mmproj file (server/create.go stores it as a projector
// layer) is read in place.

// OllamaPrefix starts a model spec naming a model of ollama's store.
const OllamaPrefix = "ollama:"

// ollamaProjector is the media type of a projector layer.
const ollamaProjector = "application/vnd.ollama.image.projector"

// The defaults of an ollama model name.
const (
	ollamaHost      = "registry.ollama.ai"
	ollamaNamespace = "library"
	ollamaTag       = "latest"
)

// maxManifestBytes bounds the read of a manifest (a few layers of JSON; real ones are under
// 2 KiB).
const maxManifestBytes = 1 << 20

// ollamaStore returns ollama's store folder: $OLLAMA_MODELS, else ~/.ollama/models ("" when
// neither is known).
func ollamaStore() string {
	if s := os.Getenv("OLLAMA_MODELS"); s != "" {
		return s
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".ollama", "models")
}

// ollamaName is a parsed ollama model name.
type ollamaName struct{ host, namespace, model, tag string }

// Part patterns of ollama's isValidPart: a letter, digit or '_' first, then those and '-', and
// '.' except in a namespace, ':' only in a host.
var (
	ollamaHostRE      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,349}$`)
	ollamaNamespaceRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]{0,79}$`)
	ollamaPartRE      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$`)
)

// parseOllamaName parses [[HOST/]NAMESPACE/]MODEL[:TAG] with ollama's defaults.
func parseOllamaName(s string) (ollamaName, error) {
	n := ollamaName{host: ollamaHost, namespace: ollamaNamespace, tag: ollamaTag}
	if s == "" {
		return n, errors.New("no model name after ollama: (want ollama:NAME[:TAG], such as ollama:qwen3-vl:8b)")
	}
	rest := s
	if c, sl := strings.LastIndexByte(s, ':'), strings.LastIndexByte(s, '/'); c > sl {
		rest, n.tag = s[:c], s[c+1:]
	}
	parts := strings.Split(rest, "/")
	switch len(parts) {
	case 1:
		n.model = parts[0]
	case 2:
		n.namespace, n.model = parts[0], parts[1]
	case 3:
		n.host, n.namespace, n.model = parts[0], parts[1], parts[2]
	default:
		return n, fmt.Errorf("ollama name %q has %d parts; want [[HOST/]NAMESPACE/]NAME[:TAG]", s, len(parts))
	}
	for _, p := range []struct {
		what, v string
		re      *regexp.Regexp
	}{{"host", n.host, ollamaHostRE}, {"namespace", n.namespace, ollamaNamespaceRE}, {"model name", n.model, ollamaPartRE}, {"tag", n.tag, ollamaPartRE}} {
		if !p.re.MatchString(p.v) {
			return n, fmt.Errorf("ollama name %q: %s %q is not valid (letters, digits, '_', '-' and '.', starting with a letter, digit or '_')", s, p.what, p.v)
		}
	}
	return n, nil
}

// ollamaLayer is one layer of a manifest.
type ollamaLayer struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

// ollamaDigestRE is the digest form ollama's BlobsPath accepts.
var ollamaDigestRE = regexp.MustCompile(`^sha256[:-][0-9a-fA-F]{64}$`)

// findOllamaProjector finds the projector blob of the model name in the store: the manifest
// is read (bounded), its one projector layer found, and the blob checked to be a regular file
// of the layer's size (its hash is not checked: ollama checks it when pulling). It returns the
// blob's and the manifest's paths.
func findOllamaProjector(store, name string) (blob, manifest string, err error) {
	n, err := parseOllamaName(name)
	if err != nil {
		return "", "", err
	}
	if store == "" {
		return "", "", errors.New("no ollama store: OLLAMA_MODELS is not set and the home folder is unknown")
	}
	display := n.model + ":" + n.tag
	if n.host != ollamaHost || n.namespace != ollamaNamespace {
		display = n.host + "/" + n.namespace + "/" + display
	}
	manifest = filepath.Join(store, "manifests", n.host, n.namespace, n.model, n.tag)
	data, err := fsutil.ReadFile(manifest, maxManifestBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return "", manifest, fmt.Errorf("ollama has no model %s: no manifest %s (ollama pull %s first, or set OLLAMA_MODELS to the store)", display, manifest, display)
	}
	if err != nil {
		return "", manifest, fmt.Errorf("ollama manifest: %w", err)
	}
	var m struct {
		Layers []ollamaLayer `json:"layers"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return "", manifest, fmt.Errorf("ollama manifest %s is not valid JSON: %w", manifest, err)
	}
	var proj []ollamaLayer
	var types []string
	for _, l := range m.Layers {
		if l.MediaType == ollamaProjector {
			proj = append(proj, l)
		}
		types = append(types, l.MediaType)
	}
	switch len(proj) {
	case 0:
		return "", manifest, fmt.Errorf("ollama manifest %s has no projector layer (%s; layers: %s): the model is text-only, or (as ollama's own Qwen3-VL models) keeps its vision tower inside the model file in ollama's layout, which is not read here; give a llama.cpp mmproj .gguf file",
			manifest, ollamaProjector, strings.Join(types, ", "))
	case 1:
	default:
		var digests []string
		for _, l := range proj {
			digests = append(digests, l.Digest)
		}
		return "", manifest, fmt.Errorf("ollama manifest %s has %d projector layers (%s): give the one to use as a file, %s",
			manifest, len(proj), strings.Join(digests, ", "), filepath.Join(store, "blobs", "sha256-HEX"))
	}
	l := proj[0]
	if !ollamaDigestRE.MatchString(l.Digest) {
		return "", manifest, fmt.Errorf("ollama manifest %s: projector layer digest %q is not sha256:<64 hex digits>", manifest, l.Digest)
	}
	blob = filepath.Join(store, "blobs", "sha256-"+l.Digest[len("sha256:"):])
	fi, err := os.Stat(blob)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", manifest, fmt.Errorf("ollama manifest %s names the projector blob %s, which is missing (ollama pull %s again)", manifest, blob, display)
	case err != nil:
		return "", manifest, fmt.Errorf("ollama projector blob: %w", err)
	case !fi.Mode().IsRegular():
		return "", manifest, fmt.Errorf("ollama projector blob %s is not a regular file", blob)
	case fi.Size() != l.Size:
		return "", manifest, fmt.Errorf("ollama projector blob %s is %d bytes, but manifest %s says %d (a partial or damaged download: ollama pull %s again)", blob, fi.Size(), manifest, l.Size, display)
	}
	return blob, manifest, nil
}
