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
)

func (k Kind) String() string {
	switch k {
	case Random:
		return "random"
	case Folder:
		return "folder"
	case Hub:
		return "hub"
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
	// Path is a Folder spec's folder, as given.
	Path string
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

// ParseSpec parses a model spec without network access and without reading any file:
// "random:PRESET[@SEED]", a hub id "Org/Name[@revision]", or a local folder (an existing
// folder, or a spec that can only be a path: see hub.ParseSpec). The error names the spec and
// says which forms are accepted.
func ParseSpec(text string) (Spec, error) {
	s := Spec{Text: text}
	if strings.TrimSpace(text) == "" {
		return s, fmt.Errorf("pipeline: %w: give a checkpoint folder, a hub id such as %s, or random:PRESET for synthetic weights (presets: %s)",
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
