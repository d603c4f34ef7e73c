package pipeline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/qwen3vl/qwen3vl/hub"
	"github.com/qwen3vl/qwen3vl/vision"
)

// Kind is the form of a model spec.
type Kind int

const (
	// Random is "random:PRESET[@SEED]": deterministic synthetic weights of a released shape.
	Random Kind = iota + 1
	// Folder is a local checkpoint folder (config.json + safetensors).
	Folder
	// Hub is a Hugging Face hub id "Org/Name[@revision]".
	Hub
	// GGUF is a llama.cpp mmproj GGUF file holding the vision tower (projector type
	// qwen3vl_merger): a file "….gguf" (or any existing file), a folder holding no checkpoint
	// but exactly one mmproj-*.gguf, or "ollama:NAME[:TAG]", the projector blob of a model in
	// ollama's store.
	// It has no language model and no tokenizer.
	GGUF
)

func (k Kind) String() string {
	switch k {
	case Random:
		return "random"
	case Folder:
		return "folder"
	case Hub:
		return "hub"
	case GGUF:
		return "gguf"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Spec is a parsed model spec: the one grammar of every -model value and QWEN3VL_MODEL.
type Spec struct {
	// Text is the spec as given.
	Text string
	Kind Kind
	// Preset, Seed and Config describe a Random spec: the preset's name, the seed of the
	// synthetic weights and the preset's tower configuration.
	Preset string
	Seed   uint64
	Config vision.Config
	// Path is a Folder spec's folder, as given, or a GGUF spec's file (the folder's
	// mmproj-*.gguf joined to it; an ollama spec's projector blob).
	Path string
	// Manifest is the ollama manifest an "ollama:" spec was found through; empty otherwise.
	Manifest string
	// Repo and Revision are a Hub spec's id and revision ("main" when none is given).
	Repo, Revision string
	// Default marks the spec of DefaultSpec: no model was named, and the default is used.
	Default bool
}

// DefaultSpec is the spec used when no model is named: hub.DefaultModel, marked Default so that
// a failure to get it says so and what to give instead.
func DefaultSpec() Spec {
	s, _ := ParseSpec(hub.DefaultModel)
	s.Default = true
	return s
}

func (s Spec) String() string { return s.Text }

// ErrNoModel is returned (wrapped) by ParseSpec for an empty spec.
var ErrNoModel = errors.New("no model given")

// ParseSpec parses a model spec without network access and without reading any weights:
// "random:PRESET[@SEED]"; "ollama:NAME[:TAG]" (the manifest is read and the projector blob
// checked, see ollama.go); an existing file, or a name ending in ".gguf" that is not a folder
// (GGUF; Resolve opens it); an existing folder holding no config.json and no safetensors but exactly
// one mmproj-*.gguf (GGUF: that file); a hub id "Org/Name[@revision]"; or a local checkpoint
// folder (an existing folder, or a spec that can only be a path: see hub.ParseSpec). The
// error names the spec and says which forms are accepted.
func ParseSpec(text string) (Spec, error) {
	s := Spec{Text: text}
	if strings.TrimSpace(text) == "" {
		return s, fmt.Errorf("pipeline: %w: give a checkpoint folder, a hub id such as %s, an mmproj .gguf file, ollama:NAME[:TAG], or random:PRESET for synthetic weights (presets: %s)",
			ErrNoModel, hub.DefaultModel, strings.Join(vision.PresetNames(), ", "))
	}
	if cfg, seed, ok, err := vision.ParseRandom(text); ok {
		if err != nil {
			return s, reword(err, "pipeline: model "+text+": ", "vision: ", text+": ")
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(text, "random:"), "@")
		s.Kind, s.Preset, s.Seed, s.Config = Random, name, seed, cfg
		return s, nil
	}
	if name, ok := strings.CutPrefix(text, OllamaPrefix); ok {
		blob, manifest, err := findOllamaProjector(ollamaStore(), name)
		if err != nil {
			return s, fmt.Errorf("pipeline: model %s: %w", text, err)
		}
		s.Kind, s.Path, s.Manifest = GGUF, blob, manifest
		return s, nil
	}
	// Before the hub id rule: "org/x.gguf" is a file, never a hub id. An existing file is
	// one too, whatever its name (an ollama blob is sha256-HEX): a checkpoint is a folder.
	if isGGUFName(text) && !isDir(text) || isFile(text) {
		s.Kind, s.Path = GGUF, text
		return s, nil
	}
	if isDir(text) {
		file, err := folderMMProj(text)
		if err != nil {
			return s, fmt.Errorf("pipeline: model %s: %w", text, err)
		}
		if file != "" {
			s.Kind, s.Path = GGUF, file
			return s, nil
		}
	}
	repo, rev, local, err := hub.ParseSpec(text)
	if err != nil {
		return s, reword(err, "pipeline: model "+text+": ", "hub: ")
	}
	if local {
		s.Kind, s.Path = Folder, text
		return s, nil
	}
	s.Kind, s.Repo, s.Revision = Hub, repo, rev
	return s, nil
}

// reworded is an error whose message replaces a wrapped error's package prefix with the
// caller's, so that messages read "pipeline: model X: what is wrong" rather than stuttering
// through every package they passed; errors.Is and errors.As still see the original.
type reworded struct {
	msg string
	err error
}

func (e *reworded) Error() string { return e.msg }
func (e *reworded) Unwrap() error { return e.err }

// reword returns err with the prefixes olds (each, in order, where present) replaced by
// prefix.
func reword(err error, prefix string, olds ...string) error {
	msg := err.Error()
	for _, o := range olds {
		msg = strings.TrimPrefix(msg, o)
	}
	return &reworded{msg: prefix + msg, err: err}
}
