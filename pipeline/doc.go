// Package pipeline is the one path from a model spec and input files to the tower's outputs,
// shared by every shell over it (the qwen3vl command, the HTTP service, and later batch jobs
// and proxies). It knows models and options; it knows no flags and no HTTP.
//
// The steps, in the order a shell calls them:
//
//	spec, err := pipeline.ParseSpec(text)          // DIR | Org/Name[@rev] | random:PRESET[@SEED] | FILE.gguf | ollama:NAME[:TAG]; no network
//	ckpt, err := pipeline.Resolve(ctx, spec, opts) // the folder (downloaded if need be) or GGUF file, config, preprocessing options; no weights
//	p, err := ckpt.Load(ctx)                       // the weights (or pipeline.Open: all three)
//	item, err := p.Prepare(ctx, pipeline.Input{Path: "cat.jpg"})
//	var b pipeline.Batch
//	b.Add(item)                                    // consecutive items concatenated, as the processor does
//	res, err := p.Encode(ctx, &b)                  // one vision.Model.Encode call
//	f := res.Items(0, b.Len())                     // per-item (or per-request) views of the rows
//	tensors := f.Tensors()                         // the output contract, by name
//
// Resolve does everything that can fail before the weights are read, so a shell can validate
// its inputs against the checkpoint's preprocessing options and only then pay for loading.
package pipeline
