"""Check `qwen3vl serve -chat` with the official OpenAI Python client (openai 3.51.0).

Not a golden maker and not run in CI: it proves that the client parses our answers.

Run (from the repository root):

    go build -o /tmp/qwen3vl ./cmd/qwen3vl
    /tmp/qwen3vl serve -chat -model random:tiny@7 -tokenizer testdata/tokenizer/qwen3vl \
        -addr 127.0.0.1:18791 -allow-url http://127.0.0.1:18792/img/ -fetch-private &
    tools/reference/.venv/bin/python tools/reference/openai_client_check.py \
        --base-url http://127.0.0.1:18791/v1 --image-port 18792
    kill %1

It asks non-streamed and streamed, with a PNG (made here) as a data URI, with a fixed seed;
checks the fields the client parses, that the streamed deltas assemble to the non-streamed
answer, and that a refused request raises the client's error with our code and param. With
--image-port it also serves the PNG from a local http.server on 127.0.0.1 (the port the
server's -allow-url names, under /img/) and checks that the same request with the image by
URL gives the same answer, and that a URL off the list (/private/) raises BadRequestError
with code url_not_allowed. It prints what it saw and exits non-zero on a mismatch.
"""

import argparse
import base64
import http.server
import sys
import threading
import zlib
import struct

import openai


def tiny_png(w=40, h=48):
    """A w×h RGB PNG of a gradient, written by hand (no Pillow needed)."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(w) for v in ((x * 6) % 256, (y * 5) % 256, (x + y) % 256))
        for y in range(h)
    )

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", default="http://127.0.0.1:18791/v1")
    ap.add_argument("--model", default="random:tiny@7")
    ap.add_argument("--image-port", type=int, default=0,
                    help="serve the PNG on 127.0.0.1:PORT/img/ and check an image by URL (0: skip)")
    args = ap.parse_args()
    client = openai.OpenAI(base_url=args.base_url, api_key="unused")
    print("openai", openai.__version__)

    uri = "data:image/png;base64," + base64.b64encode(tiny_png()).decode()
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": uri}},
            {"type": "text", "text": "What is in the picture?"},
        ]},
    ]
    params = dict(model=args.model, messages=messages, max_tokens=10, temperature=2, top_p=0.9,
                  presence_penalty=2, frequency_penalty=2, seed=1)
    failed = []

    def check(what, ok):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failed.append(what)

    r = client.chat.completions.create(**params)
    c = r.choices[0]
    print("non-stream:", r.model_dump_json())
    check("object chat.completion", r.object == "chat.completion")
    check("id chatcmpl-…", r.id.startswith("chatcmpl-"))
    check("model echoed", r.model == args.model)
    check("one choice, role assistant", len(r.choices) == 1 and c.message.role == "assistant")
    check("finish_reason stop|length", c.finish_reason in ("stop", "length"))
    check("usage adds up", r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens)
    check("completion_tokens ≤ max_tokens", 1 <= r.usage.completion_tokens <= 10)

    stream = client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **params)
    chunks = list(stream)
    deltas = [ch.choices[0].delta.content or "" for ch in chunks if ch.choices]
    finish = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    usage = [ch.usage for ch in chunks if ch.usage is not None]
    print(f"stream: {len(chunks)} chunks, deltas {deltas!r}, finish {finish}, usage {usage}")
    check("every chunk chat.completion.chunk", all(ch.object == "chat.completion.chunk" for ch in chunks))
    check("first delta has the role", chunks[0].choices[0].delta.role == "assistant")
    check("deltas assemble to the non-stream answer", "".join(deltas) == c.message.content)
    check("one finish_reason, the same", finish == [c.finish_reason])
    check("usage chunk equals the non-stream usage", len(usage) == 1 and usage[0] == r.usage)

    if args.image_port:
        png = tiny_png()
        fetched = []

        class Images(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                fetched.append(self.path)
                if not self.path.startswith(("/img/", "/private/")):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)

            def log_message(self, *a):
                pass

        images = http.server.ThreadingHTTPServer(("127.0.0.1", args.image_port), Images)
        threading.Thread(target=images.serve_forever, daemon=True).start()
        try:
            def with_url(url):
                return [messages[0], {"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": url}},
                    {"type": "text", "text": "What is in the picture?"},
                ]}]

            base = f"http://127.0.0.1:{args.image_port}"
            r2 = client.chat.completions.create(**{**params, "messages": with_url(base + "/img/tiny.png")})
            print("by URL:", r2.model_dump_json())
            check("image by URL fetched once", fetched == ["/img/tiny.png"])
            check("by URL: the data-URI answer", r2.choices[0].message.content == c.message.content
                  and r2.choices[0].finish_reason == c.finish_reason)
            check("by URL: the data-URI usage", r2.usage == r.usage)
            try:
                client.chat.completions.create(**{**params, "messages": with_url(base + "/private/tiny.png")})
                check("URL off the list refused", False)
            except openai.BadRequestError as e:
                print("off the list:", e.status_code, e.body)
                check("URL off the list refused with 400 url_not_allowed, param its url",
                      e.status_code == 400 and e.body.get("code") == "url_not_allowed"
                      and e.body.get("param") == "messages[1].content[0].image_url.url")
            check("the URL off the list never fetched", "/private/tiny.png" not in fetched)
        finally:
            images.shutdown()

    try:
        client.chat.completions.create(model=args.model, messages=messages, n=2)
        check("n=2 refused", False)
    except openai.BadRequestError as e:
        print("n=2:", e.status_code, e.body)
        check("n=2 refused with 400, param n", e.status_code == 400 and e.body.get("param") == "n")

    print("FAILED:" if failed else "all checks passed", *failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
