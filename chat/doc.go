// Package chat renders a checkpoint's own Jinja chat template over a
// conversation, exactly as Hugging Face transformers 5.24.0 does with
// processor.apply_chat_template(messages, tools=…, tokenize=False,
// add_generation_prompt=…, **vars).
//
// # What is reproduced
//
// The template runs in our own Jinja engine (internal/jinja), set up as
// transformers sets up jinja2 3.1.6: an immutable sandbox, trim_blocks and
// lstrip_blocks, the loop controls (break, continue) and the {% generation
// %} tag, transformers' tojson filter (ensure_ascii=False, keys in their
// order) and its globals raise_exception, strftime_now, dict and
// namespace. Before rendering, the conversation is normalised as the
// processor does: keys whose value is null are dropped from each message,
// OpenAI image parts {"type": "image_url", "image_url": {"url": u}} become
// {"type": "image", "url": u}, and a message carrying reasoning under
// "reasoning_content", "thinking" or "reasoning" gets it under
// "thinking" (first) and "reasoning_content" (last) as well. The tokenizer's
// named special tokens are variables too, and continue_final_message is
// reproduced (Options.ContinueFinalMessage).
//
// # Why our own engine
//
// A chat template is a program from the hub whose output must match
// Python byte for byte, and most of that output is Python semantics, not
// Jinja syntax: str() of None, True and floats (1.0, 1e+16), repr of lists
// and dicts with single quotes, json.dumps spacing and key order, str
// methods such as split and strip with Python's whitespace set, slices
// with negative steps, Undefined that prints "" but fails when its
// attribute is read. A general-purpose Go template engine makes its own
// choices on each of these; writing the subset chat templates use lets
// every one be Python's, tested against jinja2 itself
// (testdata/chat/jinja.jsonl). The engine also refuses what it does not
// implement at parse time with the template name, line and construct
// (`chat: qwen3.5.jinja:37: unsupported filter "wordwrap"`), bounds
// output, loop iterations and macro depth, and never panics on bad input
// (fuzzed). It knows nothing of chat; this package knows conversations
// and checkpoints.
//
// # Not reproduced
//
// return_assistant_tokens_mask (the generation
// tag renders its body but no mask is tracked), and tools given as Python
// callables. Documents are the conversation's "documents" key.
package chat
