// Package generate turns next-token logits into tokens as Hugging Face transformers
// (5.24.0) generate does: the logits processors in the order GenerationMixin builds them,
// greedy or sampled choice, the stop conditions (eos ids, stop strings, max new tokens) and
// streamed text that never holds half a UTF-8 character. It knows no model: logits are
// []float32 rows over the vocabulary, and the model is behind a Step function.
//
// The processors of a sampling step, in HF's order (utils.py _get_logits_processor), each
// skipped at its neutral value as HF skips it:
//
//	repetition penalty (repetition_penalty != 1; over the prompt and the generated ids)
//	presence / frequency penalty (not in HF; the OpenAI / vLLM definition, generated ids only)
//	temperature        (do_sample, temperature != 1)
//	top-k              (do_sample, top_k != 0)
//	top-p              (do_sample, top_p < 1)
//	min-p              (do_sample, min_p set; min_p 0 removes nothing)
//
// Greedy decoding (do_sample false, or temperature 0) applies the penalties only, then takes
// the argmax, as HF does. HF refuses temperature 0 with do_sample; here it means greedy.
// The other processors HF can build (no_repeat_ngram_size, bad_words_ids, min_length,
// min_new_tokens, suppress_tokens, typical_p, epsilon / eta cutoffs, top_h, …) are not
// read from generation_config.json and not applied.
//
// Against transformers' own processors (testdata/generate, see its README) the processed
// scores are bit-identical, -Inf at exactly the same ids — ties at the top-k and top-p
// boundaries included: top-p reproduces torch.sort's (unstable, libstdc++ std::sort) order
// among equal logits — and the probabilities within 2e-7.
//
// Sampling draws from the softmax of the processed logits with a PCG generator seeded from
// Config.Seed (math/rand/v2). PyTorch's random stream cannot be reproduced, so a seed gives
// the same tokens in this package from run to run, not the tokens torch.multinomial would
// draw; what is checked against HF is the processed distribution.
package generate
