package vision

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/checkpoint"
	"github.com/qwen3vl/qwen3vl/internal/half"
	"github.com/qwen3vl/qwen3vl/internal/kernels"
)

// Model is a loaded vision tower. It is read-only after Load or Random returns, and Encode may be
// called from many goroutines at once (each call allocates its own activations).
type Model struct {
	cfg     Config
	threads int
	weights Weights // WeightsF32 or WeightsBF16
	compute Compute // ComputeF32 or ComputeBF16

	patch     *kernels.Linear // Conv3d with stride = kernel, as [D, PatchDim]
	posTable  []float32       // [NumPositionEmbeddings, D]
	blocks    []block
	merger    merger   // LayerNorm(D), then m² rows → one
	deepstack []merger // m² rows → one, then LayerNorm(D·m²)
	invFreq   []float32
}

// block is one pre-norm transformer block.
type block struct {
	norm1W, norm1B []float32
	qkv, proj      *kernels.Linear // [3D, D], [D, D]
	norm2W, norm2B []float32
	fc1, fc2       *kernels.Linear // [I, D], [D, I]
}

// merger turns m² consecutive rows into one token of width O: fc2(GELU_erf(fc1(·))), with a
// LayerNorm before (over D, main merger) or after (over D·m², DeepStack mergers) the regrouping.
type merger struct {
	postShuffle  bool
	normW, normB []float32
	fc1, fc2     *kernels.Linear // [D·m², D·m²], [O, D·m²]
}

// Options configure a model at load time.
type Options struct {
	// Threads is the number of goroutines the kernels split work over; 0 means GOMAXPROCS.
	Threads int
	// Weights says how the Linears' weights are held in memory; the zero value is WeightsAuto.
	Weights Weights
	// Compute says in which arithmetic the tower multiplies; the zero value is ComputeF32.
	// ComputeBF16 holds the weights as bfloat16 and is an error where the CPU lacks the
	// instructions (checkpoint.ResolveCompute).
	Compute Compute
}

// Compute says in which arithmetic a Model multiplies: internal/checkpoint's (see
// checkpoint.Compute), the type text.Compute is too.
type Compute = checkpoint.Compute

// The Compute values (see checkpoint.Compute).
const (
	ComputeF32  = checkpoint.ComputeF32
	ComputeBF16 = checkpoint.ComputeBF16
	ComputeAuto = checkpoint.ComputeAuto
)

// ParseCompute parses "f32", "bf16" or "auto" (the names Compute.String returns).
func ParseCompute(s string) (Compute, error) { return checkpoint.ParseCompute(s) }

// Compute returns the arithmetic the model multiplies in: ComputeF32 or ComputeBF16 (never
// ComputeAuto; that is resolved at load).
func (m *Model) Compute() Compute { return m.compute }

// Weights says how a Model holds the weights of its Linears (the patch embedding, the blocks'
// attention and MLP, the mergers) in memory: internal/checkpoint's, the type text.Weights is
// too. LayerNorm parameters, biases and the position table are float32 in every mode.
type Weights = checkpoint.Weights

// The Weights values (see checkpoint.Weights): WeightsAuto is WeightsBF16 when every tensor of
// the tower is stored as bfloat16, else WeightsF32.
const (
	WeightsAuto = checkpoint.WeightsAuto
	WeightsF32  = checkpoint.WeightsF32
	WeightsBF16 = checkpoint.WeightsBF16
)

// ParseWeights parses "auto", "f32" or "bf16" (the names Weights.String returns).
func ParseWeights(s string) (Weights, error) { return checkpoint.ParseWeights(s) }

// Weights returns how the model holds its weights: WeightsF32 or WeightsBF16 (never WeightsAuto;
// that is resolved at load).
func (m *Model) Weights() Weights { return m.weights }

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Threads returns the number of goroutines Encode splits work over.
func (m *Model) Threads() int { return m.threads }

// source yields checkpoint tensors by their canonical name (without any "model.visual." prefix):
// their shapes, whether they are stored as bfloat16, and their values as float32 or as the
// stored bfloat16 bits.
type source interface {
	shape(name string) ([]int, bool)
	bf16(name string) bool // whether the tensor is stored as bfloat16
	// bf16Bits returns a tensor stored as bfloat16 as its bits, unconverted.
	bf16Bits(name string) ([]uint16, error)
	float32s(name string) ([]float32, error)
	fullName(name string) string // the name as stored, for messages
}

// maxShapeErrors bounds how many missing or misshaped tensors one error lists.
const maxShapeErrors = 10

// checkTensors verifies that every tensor the config needs is present with the right shape,
// before any data is read.
func checkTensors(cfg Config, src source) error {
	var problems []string
	for _, s := range cfg.Tensors() {
		got, ok := src.shape(s.Name)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("tensor %s is missing (want shape %v)", src.fullName(s.Name), s.Shape))
		case !slices.Equal(got, s.Shape):
			problems = append(problems, fmt.Sprintf("tensor %s has shape %v, want %v", src.fullName(s.Name), got, s.Shape))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	more, total := "", len(problems)
	if len(problems) > maxShapeErrors {
		more = fmt.Sprintf("\n  … and %d more", len(problems)-maxShapeErrors)
		problems = problems[:maxShapeErrors]
	}
	return fmt.Errorf("the weights do not fit the config (%d problems):\n  %s%s", total, strings.Join(problems, "\n  "), more)
}

// build checks and then reads every tensor of src into a Model.
func build(cfg Config, src source, opts Options) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkTensors(cfg, src); err != nil {
		return nil, err
	}
	compute, weights, err := checkpoint.ResolveCompute(opts.Compute, opts.Weights, kernels.BF16Dot())
	if err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	m := &Model{cfg: cfg, threads: opts.Threads, weights: weights, compute: compute}
	switch m.weights {
	case WeightsAuto:
		m.weights = WeightsBF16
		for _, t := range cfg.Tensors() {
			if !src.bf16(t.Name) {
				m.weights = WeightsF32
				break
			}
		}
	case WeightsF32, WeightsBF16:
	default:
		return nil, fmt.Errorf("options: unknown %v", opts.Weights)
	}
	if m.threads <= 0 {
		m.threads = runtime.GOMAXPROCS(0)
	}
	// Tensors are read (converted to float32 unless bf16 weights stay bf16) and packed for the
	// kernels in parallel, a module (a block, a merger) per goroutine.
	l := &loader{Binder: checkpoint.NewBinder(m.threads), src: src, bf16: m.weights == WeightsBF16, dot: m.compute == ComputeBF16}
	// The parameter table binds every tensor to its field; a module is one task.
	for _, mod := range cfg.modules(m) {
		l.Go(func() { l.bind(mod.params) })
	}
	if err := l.Wait(); err != nil {
		return nil, err
	}
	m.invFreq = rotaryInvFreq(cfg.HeadDim())
	return m, nil
}

// loader reads tensors from a source for build, from several goroutines, keeping the first
// error.
type loader struct {
	*checkpoint.Binder
	src  source
	bf16 bool // build Linears with bfloat16 weights
	dot  bool // build Linears that multiply in bfloat16 (kernels.NewLinearBF16Dot; bf16 is set too)
}

// bind reads the tensors of one module of the parameter table into their destinations.
func (l *loader) bind(params []param) {
	for _, p := range params {
		switch {
		case p.vec != nil:
			*p.vec = l.get(p.Name)
		case p.lin != nil:
			prefix, _ := strings.CutSuffix(p.Name, ".weight")
			out := p.Shape[0]
			*p.lin = l.linear(prefix, out, numel(p.Shape)/out)
		}
	}
}

// get returns a tensor as float32, or nil after an error.
func (l *loader) get(name string) []float32 {
	if l.Failed() {
		return nil
	}
	v, err := l.src.float32s(name)
	if err != nil {
		l.Fail(fmt.Errorf("tensor %s: %w", l.src.fullName(name), err))
	}
	return v
}

// linear returns the Linear of prefix.weight [out, in] and prefix.bias [out], or nil after an
// error.
func (l *loader) linear(prefix string, out, in int) *kernels.Linear {
	if l.bf16 && l.src.bf16(prefix+".weight") {
		// Stored as bf16 and kept as bf16: the bits go to the kernels as they are.
		return l.linearBF16Bits(prefix, out, in)
	}
	w, b := l.get(prefix+".weight"), l.get(prefix+".bias")
	if l.Failed() {
		return nil
	}
	newLinear := kernels.NewLinear
	switch {
	case l.dot:
		newLinear = func(w, b []float32, out, in int) (*kernels.Linear, error) {
			return kernels.NewLinearBF16Dot(half.F32sToBF16(w), b, out, in)
		}
	case l.bf16:
		newLinear = kernels.NewLinearBF16
	}
	lin, err := newLinear(w, b, out, in)
	if err != nil {
		l.Fail(fmt.Errorf("%s: %w", prefix, err))
	}
	return lin
}

// linearBF16Bits is linear for a weight stored as bfloat16 and kept so (the result is the same
// as NewLinearBF16 on the weight widened to float32, without the round trip).
func (l *loader) linearBF16Bits(prefix string, out, in int) *kernels.Linear {
	if l.Failed() {
		return nil
	}
	w, err := l.src.bf16Bits(prefix + ".weight")
	if err != nil {
		l.Fail(fmt.Errorf("tensor %s: %w", l.src.fullName(prefix+".weight"), err))
		return nil
	}
	b := l.get(prefix + ".bias")
	if l.Failed() {
		return nil
	}
	newLinear := kernels.NewLinearBF16Bits
	if l.dot {
		newLinear = kernels.NewLinearBF16Dot
	}
	lin, err := newLinear(w, b, out, in)
	if err != nil {
		l.Fail(fmt.Errorf("%s: %w", prefix, err))
	}
	return lin
}
