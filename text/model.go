package text

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/checkpoint"
	"github.com/qwen3vl/qwen3vl/internal/half"
	"github.com/qwen3vl/qwen3vl/internal/kernels"
)

// Model is a loaded text decoder. It is read-only after Load or Random returns; Prefill and
// Decode may run from many goroutines at once on different Caches.
type Model struct {
	cfg     Config
	threads int
	weights Weights // WeightsF32 or WeightsBF16
	compute Compute // ComputeF32 or ComputeBF16

	embed   embedding       // embed_tokens [V, D]
	layers  []layer         // L decoder layers
	norm    []float32       // the final RMSNorm weight [D]
	lmHead  *kernels.Linear // [V, D]: lm_head, or embed_tokens when tied
	invFreq []float32       // [hd/2] the rotary inverse frequencies (rope.go)
}

// layer is one pre-norm decoder layer: x += o(attn(rope(qnorm(q(n1 x))), rope(knorm(k(n1 x))),
// v(n1 x))); x += down(SiLU(gate(n2 x)) · up(n2 x)).
type layer struct {
	inputNorm    []float32       // [D]
	q, k, v, o   *kernels.Linear // [H·hd, D], [G·hd, D], [G·hd, D], [D, H·hd]
	qNorm, kNorm []float32       // [hd], per head
	postNorm     []float32       // [D]
	gate, up     *kernels.Linear // [I, D]; nil in a sparse layer
	down         *kernels.Linear // [D, I]; nil in a sparse layer
	moe          *moeBlock       // a sparse layer's router and experts (x += moe(n2 x)), else nil
}

// embedding is the token embedding table [V, D], as float32 or as bfloat16 bits (one is set).
type embedding struct {
	rows, cols int
	f32        []float32
	bf16       []uint16
}

// row writes row id of the table into dst [D].
func (e *embedding) row(dst []float32, id int) {
	if e.f32 != nil {
		copy(dst, e.f32[id*e.cols:(id+1)*e.cols])
		return
	}
	for c, b := range e.bf16[id*e.cols : (id+1)*e.cols] {
		dst[c] = half.BF16ToF32(b)
	}
}

// Weights says how a Model holds its Linears' weights and the embedding table:
// internal/checkpoint's, the vision tower's type too (vision.Weights), with the same meaning.
// RMSNorm weights are always float32.
type Weights = checkpoint.Weights

// The Weights values (see checkpoint.Weights).
const (
	WeightsAuto = checkpoint.WeightsAuto
	WeightsF32  = checkpoint.WeightsF32
	WeightsBF16 = checkpoint.WeightsBF16
)

// Options configure a model at load time.
type Options struct {
	// Threads is the number of goroutines the kernels split work over; 0 means GOMAXPROCS.
	Threads int
	// Weights says how weights are held in memory; the zero value is WeightsAuto (bf16 when
	// every tensor is stored as bf16, else f32).
	Weights Weights
	// Compute says in which arithmetic the Linears multiply (prefill and decode alike); the
	// zero value is ComputeF32. ComputeBF16 (kernels.NewLinearBF16Dot) holds the weights as
	// bfloat16 and is an error where the CPU lacks the instructions
	// (checkpoint.ResolveCompute). Attention, norms, rotary, SiLU, the residuals and the MoE
	// router (so that bf16 products do not flip expert choices) stay float32 in every mode.
	Compute Compute
}

// Compute says in which arithmetic a Model multiplies: internal/checkpoint's, the vision
// tower's type too (vision.Compute), with the same meaning.
type Compute = checkpoint.Compute

// The Compute values (see checkpoint.Compute).
const (
	ComputeF32  = checkpoint.ComputeF32
	ComputeBF16 = checkpoint.ComputeBF16
	ComputeAuto = checkpoint.ComputeAuto
)

// Compute returns the arithmetic the model's Linears multiply in: ComputeF32 or ComputeBF16.
func (m *Model) Compute() Compute { return m.compute }

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Weights returns how the model holds its weights: WeightsF32 or WeightsBF16.
func (m *Model) Weights() Weights { return m.weights }

// Threads returns the number of goroutines the forward pass splits work over.
func (m *Model) Threads() int { return m.threads }

// source yields tensors by their full state_dict name: shapes, whether stored as bfloat16, and
// values as float32 or as the stored bfloat16 bits.
type source interface {
	shape(name string) ([]int, bool)
	bf16(name string) bool
	bf16Bits(name string) ([]uint16, error)
	float32s(name string) ([]float32, error)
}

// maxShapeErrors bounds how many missing or misshaped tensors one error lists.
const maxShapeErrors = 10

// checkTensors verifies that every tensor the config needs is present with the right shape,
// before any data is read.
func checkTensors(cfg Config, src source) error {
	var problems []string
	for _, s := range cfg.Tensors() {
		got, ok := src.shape(s.Name)
		want := fmt.Sprint(s.Shape)
		if s.AltShape != nil {
			want += fmt.Sprintf(" or %v (the released checkpoints' layout)", s.AltShape)
		}
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("tensor %s is missing (want shape %s)", s.Name, want))
		case !slices.Equal(got, s.Shape) && (s.AltShape == nil || !slices.Equal(got, s.AltShape)):
			problems = append(problems, fmt.Sprintf("tensor %s has shape %v, want %s", s.Name, got, want))
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

// resolveWeights turns WeightsAuto into WeightsBF16 when every tensor of src is bf16.
func resolveWeights(cfg Config, src source, w Weights) (Weights, error) {
	switch w {
	case WeightsAuto:
		for _, t := range cfg.Tensors() {
			if !src.bf16(t.Name) {
				return WeightsF32, nil
			}
		}
		return WeightsBF16, nil
	case WeightsF32, WeightsBF16:
		return w, nil
	}
	return 0, fmt.Errorf("options: unknown %v", w)
}

// ResidentBytes is the memory the weights of a decoder of this config take once loaded with w
// (WeightsF32 or WeightsBF16): every Linear and the embedding table at 4 or 2 bytes a value
// (a tied output projection is a second, packed copy of the table), the RMSNorm weights at 4.
func (c Config) ResidentBytes(w Weights) int64 {
	per := int64(4)
	if w == WeightsBF16 {
		per = 2
	}
	var n int64
	for _, mod := range c.modules(new(Model)) {
		for _, p := range mod.params {
			size := numel(p.Shape)
			switch {
			case p.vec != nil:
				n += 4 * size
			case p.embed != nil && c.TieWordEmbeddings:
				n += 2 * per * size
			default:
				n += per * size
			}
		}
	}
	return n
}

// build checks and then reads every tensor of src into a Model.
func build(cfg Config, src source, opts Options) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkTensors(cfg, src); err != nil {
		return nil, err
	}
	compute, w, err := checkpoint.ResolveCompute(opts.Compute, opts.Weights, kernels.BF16Dot())
	if err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	if w, err = resolveWeights(cfg, src, w); err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg, threads: opts.Threads, weights: w, compute: compute}
	if m.threads <= 0 {
		m.threads = runtime.GOMAXPROCS(0)
	}
	l := &loader{Binder: checkpoint.NewBinder(m.threads), src: src, bf16: w == WeightsBF16, dot: compute == ComputeBF16}
	for _, mod := range cfg.modules(m) {
		l.Go(func() { l.bind(mod.params) })
	}
	if err := l.Wait(); err != nil {
		return nil, err
	}
	if cfg.TieWordEmbeddings {
		e := &m.embed
		if e.f32 != nil {
			m.lmHead, err = l.linear(e.f32, e.rows, e.cols)
		} else {
			m.lmHead, err = l.linearBits(e.bf16, e.rows, e.cols)
		}
		if err != nil {
			return nil, fmt.Errorf("tied lm_head: %w", err)
		}
	}
	m.invFreq = ropeInvFreq(cfg.RopeTheta, cfg.HeadDim)
	return m, nil
}

// linear packs W [out, in] given as float32 for the loader's weights and arithmetic.
func (l *loader) linear(w []float32, out, in int) (*kernels.Linear, error) {
	switch {
	case l.dot:
		return kernels.NewLinearBF16Dot(half.F32sToBF16(w), nil, out, in)
	case l.bf16:
		return kernels.NewLinearBF16(w, nil, out, in)
	}
	return kernels.NewLinear(w, nil, out, in)
}

// linearBits packs W [out, in] given as bfloat16 bits (bf16 weights kept so).
func (l *loader) linearBits(w []uint16, out, in int) (*kernels.Linear, error) {
	if l.dot {
		return kernels.NewLinearBF16Dot(w, nil, out, in)
	}
	return kernels.NewLinearBF16Bits(w, nil, out, in)
}

// loader reads tensors from a source for build, from several goroutines, keeping the first
// error.
type loader struct {
	*checkpoint.Binder
	src  source
	bf16 bool
	dot  bool // Linears that multiply in bfloat16 (kernels.NewLinearBF16Dot; bf16 is set too)
}

// bind reads the tensors of one module into their destinations.
func (l *loader) bind(params []param) {
	for _, p := range params {
		if l.Failed() {
			return
		}
		if err := l.bindOne(p); err != nil {
			l.Fail(fmt.Errorf("tensor %s: %w", p.Name, err))
		}
	}
}

func (l *loader) bindOne(p param) error {
	out, in := p.Shape[0], 0
	if len(p.Shape) == 2 {
		in = p.Shape[1]
	}
	keepBits := l.bf16 && l.src.bf16(p.Name)
	switch {
	case p.experts != nil:
		shape, _ := l.src.shape(p.Name)
		released := !slices.Equal(shape, p.Shape) // checkTensors saw Shape or AltShape
		d := p.Shape[2]                           // gate_up_proj [E, 2·I_e, D]
		if p.part == downPart {
			d = p.Shape[1] // down_proj [E, D, I_e]
		}
		if keepBits {
			b, err := l.src.bf16Bits(p.Name)
			if err != nil {
				return err
			}
			return bindExperts(p.experts, p.part, b, released, d, l.linearBits)
		}
		v, err := l.src.float32s(p.Name)
		if err != nil {
			return err
		}
		return bindExperts(p.experts, p.part, v, released, d, l.linear)
	case p.vec != nil:
		v, err := l.src.float32s(p.Name)
		*p.vec = v
		return err
	case p.embed != nil:
		*p.embed = embedding{rows: out, cols: in}
		if keepBits {
			b, err := l.src.bf16Bits(p.Name)
			p.embed.bf16 = b
			return err
		}
		v, err := l.src.float32s(p.Name)
		if err != nil {
			return err
		}
		if l.bf16 {
			b := make([]uint16, len(v))
			for i, x := range v {
				b[i] = half.F32ToBF16(x)
			}
			p.embed.bf16 = b
			return nil
		}
		p.embed.f32 = v
		return nil
	case p.lin != nil:
		ld := l
		if p.router && l.dot {
			ld = &loader{Binder: l.Binder, src: l.src, bf16: true} // float32 arithmetic
		}
		var err error
		if keepBits {
			var b []uint16
			if b, err = l.src.bf16Bits(p.Name); err == nil {
				*p.lin, err = ld.linearBits(b, out, in)
			}
			return err
		}
		v, err := l.src.float32s(p.Name)
		if err != nil {
			return err
		}
		*p.lin, err = ld.linear(v, out, in)
		return err
	}
	return nil
}
