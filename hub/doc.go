// Package hub resolves a -model value to a local checkpoint folder that vision.Load can
// read: a local folder as is, or a Hugging Face Hub id "Org/Name[@revision]" found in a
// cache or downloaded, vision tower only (or, with Options.Text, vision tower and language
// model, for text.Load too).
//
// # Caches
//
// The Hugging Face hub cache (HF_HUB_CACHE, else $HF_HOME/hub, else
// ~/.cache/huggingface/hub) is reused in place and never written: a snapshot
// models--Org--Name/snapshots/<commit>/ is used if it has config.json and model.safetensors,
// or model.safetensors.index.json with every shard that holds vision tensors. A branch or
// tag is mapped to a commit through models--Org--Name/refs/<revision> when offline.
//
// Downloads go to our own cache (QWEN3VL_CACHE, else os.UserCacheDir()/qwen3vl), in
// models/Org--Name/<commit>/: config.json and the small processor files, a model.safetensors
// holding only the vision tower's tensors (original names, dtypes and bytes), and
// source.json recording the repository, revision, commit, and each tensor's source shard,
// byte range and ETag. For Qwen3-VL-2B this is about 0.8 GB of the 4.5 GB checkpoint. With
// Options.Text the same is done, in models/Org--Name/full/<commit>/, for the vision and
// language tensors (text.IsTensor: model.language_model.* and lm_head.weight; about 4.3 GB
// for the 2B), and only such a folder, or a Hugging Face snapshot holding both sets, answers
// a Text request; a vision-only request also takes a full folder.
//
// # What is fetched
//
// All requests go to the endpoint (HF_ENDPOINT, default https://huggingface.co), with
// "Authorization: Bearer $HF_TOKEN" when a token is set; the header is dropped when a
// redirect leaves the endpoint's host (the CDN's URLs are pre-signed). With HF_HUB_OFFLINE=1
// nothing is requested at all.
//
//  1. GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true: the commit ("sha")
//     and the file list with sizes ("siblings"). Every file below is then requested at that
//     commit, so a branch moving meanwhile cannot mix two versions.
//  2. GET {endpoint}/{repo}/resolve/{commit}/config.json, checked (model_type qwen3_vl or
//     qwen3_vl_moe, and a vision config the vision package accepts) before any weight is
//     fetched; then, when the repository has them, preprocessor_config.json,
//     video_preprocessor_config.json, and the text side: tokenizer_config.json, tokenizer.json,
//     chat_template.json or chat_template.jinja, generation_config.json.
//  3. model.safetensors.index.json if present (else the single model.safetensors): the
//     shards holding vision tensors.
//  4. For each such shard, by range requests on its /resolve/ URL (which redirects to the
//     CDN): bytes 0-7, the header length N; bytes 8 to 8+N-1, the JSON header, parsed with
//     safetensors.ParseHeader against the file size from Content-Range (or X-Linked-Size);
//     then the vision tensors' bytes, adjacent ranges coalesced into one request. Nothing
//     else of the shard is read, and shards without vision tensors are not touched.
//
// The commit (X-Repo-Commit), ETag (X-Linked-Etag, else ETag) and size (X-Linked-Size) are
// read from the hub's redirect response, as huggingface_hub reads them from a HEAD request
// that does not follow the redirect to the CDN.
//
// # Guarantees
//
// Verified: every range must come back as 206 with exactly the requested Content-Range and
// length; a shard's size must agree between Content-Range, X-Linked-Size and the revision
// API, and its size and ETag must stay the same across requests; each file must belong to
// the requested commit (X-Repo-Commit). Small files copied whole (config.json, the
// processor configs, the index) are checksummed as huggingface_hub's verify does: the
// revision API's lfs.sha256 for LFS files, its blobId (the git blob sha1) for files stored in
// git, or, when the API lists no files, the ETag when it is one of those. The tensor bytes
// are not checksummed, because they cannot be: the hub's only checksum of a shard is the
// sha256 of the whole file, and only parts of it are fetched. They are protected by the
// transport (TLS), the exact range and size checks, and a final check that reopens
// model.safetensors with the safetensors reader (which validates the whole layout) and
// compares every tensor's name, dtype, shape and place with the source headers. A partial
// download resumed after a crash trusts the bytes it had synced to disk.
//
// Resumable: tensor bytes go to models/Org--Name/.partial-<commit>/model.safetensors.part,
// whose durable length is recorded (after fsync) every 64 MiB in state.json. A broken or
// stalled connection is reopened from the first missing byte (up to 5 attempts in a row
// without progress); an interrupted run continues, in a later Resolve, from the last
// recorded point, if the plan (headers, ETags, layout) is unchanged.
//
// Atomic: the folder is assembled under .partial-<commit>/ and renamed to <commit>/ only
// when complete and verified, so a partial download never looks complete. A lock file
// (.lock-<commit>, flock) makes a second process wait for the first instead of downloading
// the same commit; if the lock is not honoured (some network file systems), the final
// rename refuses to replace a folder that is already there.
//
// A server that ignores Range (answers 200 with the whole file) is handled by reading the
// stream forward and discarding what is not needed: correct, but it reads the shards up to
// their last vision tensor.
//
// # Errors
//
// Errors say what happened and what to do, and match a sentinel: ErrNetwork (hub
// unreachable: set HF_HUB_OFFLINE=1 to use cached models, or HF_ENDPOINT for a mirror),
// ErrAuth (401/403: for a gated model, accept the licence on the model's page and set
// HF_TOKEN), ErrNotFound (repository, revision or file), ErrNotCached (offline and not
// cached), ErrUnsupported (not a Qwen3-VL config), ErrNoVisionWeights, ErrDiskFull,
// ErrCorrupt. A command whose user named no model calls ResolveDefault instead of Resolve:
// when DefaultModel cannot be had, its error (a *DefaultModelError) says the model was the
// default and suggests a local checkpoint folder or random:PRESET.
//
// The hub's protocol as used here follows huggingface_hub (constants.py: ENDPOINT,
// HUGGINGFACE_CO_URL_TEMPLATE, the X-Repo-Commit / X-Linked-Etag / X-Linked-Size header
// names, the cache paths and HF_HUB_OFFLINE; file_download.py: hf_hub_url,
// get_hf_file_metadata, _normalize_etag, http_get's Range handling, the cache layout;
// utils/_http.py: hf_raise_for_status's X-Error-Code values; hf_api.py: model_info).
package hub
