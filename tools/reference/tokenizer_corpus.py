#!/usr/bin/env python3
"""Writes the tokenizer test corpus testdata/tokenizer/corpus.jsonl.

Usage (from the repository root):

    tools/reference/.venv/bin/python tools/reference/tokenizer_corpus.py

Output: one JSON object per line, {"name": str, "text": str}, in a fixed order, written with
json.dumps(ensure_ascii=False) (so non-ASCII is raw UTF-8; control characters, quote and
backslash are JSON escapes such as \\u0000, \\n, \\t). Names are unique and say what the case
tests. No text contains a surrogate code point (they cannot be UTF-8).

The random cases come from random.Random with fixed seeds. The last cases (bpe-unreachable-*)
list the vocabulary tokens of the committed tokenizer.json files that their merges cannot build,
found with the venv's tokenizers (the only non-standard import). The output is deterministic:
running it twice gives an identical file.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "testdata" / "tokenizer" / "corpus.jsonl"
GENERATOR = "tools/reference/tokenizer_corpus.py"
MAX_CASE_BYTES = 200_000

CASES: list[tuple[str, str]] = []


def add(name: str, text: str) -> None:
    CASES.append((name, text))


def prose() -> None:
    add("empty", "")
    add("single-letter", "a")
    add("single-space", " ")
    add("english-hello", "Hello, world!")
    add("english-prose",
        "The quick brown fox jumps over the lazy dog. It was the best of times, it was the worst "
        "of times; it was the age of wisdom, it was the age of foolishness.")
    add("english-paragraphs",
        "Tokenizers split text into pieces.\n\nEach piece maps to an id.\nSome pieces are whole "
        "words, others are fragments like \"ing\" or \"tion\".\n")
    add("english-capitals", "NASA and the ESA launched GPT-4o-mini on MONDAY; iPhone McDonald's.")
    add("english-quotes", "\u201cSmart quotes\u201d and \u2018single\u2019 \u2014 em dash \u2013 en dash\u2026 ellipsis")
    add("english-hyphens", "state-of-the-art, well-known, e-mail, re-enter, co-operate")
    add("english-urls", "See https://example.com/path?q=1&r=two#frag or mailto:someone@example.org.")
    add("english-leading-space", " leading space")
    add("english-trailing-space", "trailing space ")
    add("english-mixed-case-word", "HeLLo WoRLD camelCaseWord snake_case_word kebab-case-word")
    add("english-apostrophe-words", "rock 'n' roll, 'tis, o'clock, ma'am, y'all")


def contractions() -> None:
    for suf in ["s", "t", "re", "ve", "m", "ll", "d"]:
        add(f"contraction-lower-{suf}", f"it'{suf} we'{suf} they'{suf}")
        add(f"contraction-upper-{suf}", f"IT'{suf.upper()} WE'{suf.upper()}")
        if len(suf) == 2:
            mixed = suf[0].upper() + suf[1]
            add(f"contraction-mixed-{suf}", f"We'{mixed} we'{suf[0]}{suf[1].upper()}")
        add(f"contraction-alone-{suf}", f"'{suf}")
        add(f"contraction-spaced-{suf}", f" '{suf} ")
    add("contraction-sentence", "I'm sure you're right, it's what we've said: they'll go, he'd know, don't.")
    add("contraction-upper-sentence", "I'M SURE YOU'RE RIGHT, IT'S WHAT WE'VE SAID: THEY'LL GO, HE'D KNOW, DON'T.")
    add("contraction-nearmiss-sx", "it'sx 'st 'sa")
    add("contraction-nearmiss-rea", "'rea 'ver 'mm 'lll 'dd")
    add("contraction-nearmiss-r", "'r 'v 'l 'x 'z")
    add("contraction-nearmiss-curly", "it\u2019s we\u2019re they\u2019ll")
    add("contraction-nearmiss-backtick", "it`s we`re")
    add("contraction-double-apostrophe", "it''s ''s '''re")
    add("contraction-after-digit", "1990's 80's 7'll")
    add("contraction-after-space", "x 's y 'T")
    add("contraction-after-newline", "\n's\n'LL\n")
    add("contraction-after-nonlatin", "\u4e2d's \u0645'll \u00e9'RE")
    add("contraction-dotless-i", "'\u0130 'i\u0307")
    add("contraction-kelvin-long-s", "'\u017f '\u212a")  # ſ and Kelvin sign, case-fold to s/k
    add("contraction-only-apostrophes", "''''")
    add("contraction-at-end", "dogs'")


LANGS = [
    ("chinese-simplified", "我们今天去公园散步，天气非常好。人工智能正在改变世界。"),
    ("chinese-traditional", "臺灣的夜市很熱鬧，我們吃了蚵仔煎和珍珠奶茶。"),
    ("chinese-punctuation", "你好！「引號」『雙引號』，《書名》、句號。？；：……——"),
    ("japanese-mixed", "今日は良い天気ですね。カタカナとひらがなと漢字を混ぜて書きます。"),
    ("japanese-halfwidth-kana", "ｶﾀｶﾅ ﾊﾝｶｸ ｶﾞｷﾞｸﾞ"),
    ("japanese-kana-voiced-combining", "か\u3099き\u3099く\u3099 は\u309a"),
    ("korean-precomposed", "안녕하세요. 한국어 형태소 분석은 어렵습니다."),
    ("korean-conjoining-jamo", "\u1100\u1161\u11a8 \u1112\u1161\u11ab\u1100\u1173\u11af"),
    ("korean-compatibility-jamo", "ㄱㄴㄷㅏㅑ ㅋㅋㅋ ㅎㅎ"),
    ("arabic-plain", "مرحبا بالعالم، كيف حالك اليوم؟"),
    ("arabic-diacritics", "بِسْمِ اللَّهِ الرَّحْمَٰنِ الرَّحِيمِ"),
    ("arabic-tatweel-ligature", "عـــربي ﷲ ﻻ"),
    ("persian", "زبان فارسی با حروف گ چ پ ژ نوشته می‌شود."),
    ("hebrew-plain", "שלום עולם, מה שלומך?"),
    ("hebrew-niqqud", "בְּרֵאשִׁית בָּרָא אֱלֹהִים"),
    ("devanagari-hindi", "नमस्ते दुनिया, आप कैसे हैं? हिन्दी में लिखा गया पाठ।"),
    ("devanagari-combining", "क्षत्रिय श्री द्वारा ज्ञान ॐ कि कु कृ कं कँ"),
    ("thai", "สวัสดีครับ ภาษาไทยไม่มีช่องว่างระหว่างคำ น้ำ ที่"),
    ("cyrillic-russian", "Привет, мир! Съешь же ещё этих мягких французских булок."),
    ("cyrillic-ukrainian", "Ґанок, їжак, єнот і ще дещо — українська мова."),
    ("greek", "Γειά σου Κόσμε! Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. ΐΰ ς"),
    ("greek-polytonic", "ἐν ἀρχῇ ἦν ὁ λόγος"),
    ("vietnamese", "Tiếng Việt có dấu: ẩm ướt, người, được, Nguyễn, khuỷu."),
    ("vietnamese-decomposed", "Vie\u0323\u0302t Nam ngu\u031bo\u031b\u0300i"),
    ("tamil", "வணக்கம் உலகம், தமிழ் மொழி மிகவும் பழமையானது."),
    ("georgian", "გამარჯობა, მსოფლიო! ქართული ანბანი."),
    ("amharic", "ሰላም ዓለም፣ እንዴት ነህ? ኢትዮጵያ።"),
    ("armenian", "Բարեւ աշխարհ"),
    ("bengali", "আমি বাংলায় গান গাই।"),
    ("sinhala", "ශ්‍රී ලංකාව"),
    ("khmer", "សួស្តីពិភពលោក"),
    ("mongolian", "ᠮᠣᠩᠭᠣᠯ ᠪᠢᠴᠢᠭ"),
    ("tibetan", "བོད་ཡིག"),
    ("cherokee", "ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ"),
    ("turkish-dotted-i", "İstanbul ıslak IĞDIR iğne"),
    ("german-eszett", "Straße STRASSE ẞ Maß Ölüberschuß"),
    ("french", "Ça va? L'été dernier, j'ai mangé des crêpes à Noël."),
    ("spanish", "¿Dónde está el niño? ¡Mañana será otro día!"),
    ("polish", "Zażółć gęślą jaźń"),
    ("icelandic", "Þórður og Ægir fóru á sjó."),
    ("mixed-scripts-no-space", "English中文日本語한국어العربيةעבריתहिन्दीไทยРусский"),
    ("mixed-scripts-spaced", "English 中文 日本語 한국어 العربية עברית हिन्दी ไทย Русский Ελληνικά"),
    ("rtl-with-marks", "\u202bمرحبا\u202c \u200fשלום\u200e abc"),
    ("math-letters", "𝐀𝐁𝐂 𝑥𝑦𝑧 𝔄𝔅 ℝℕℤ ∑∫∂∇ α≤β≥γ"),
    ("cjk-extension-b", "𠀀𠀁𪚥𫝀𰀀"),
]


def languages() -> None:
    for name, text in LANGS:
        add("lang-" + name, text)


def emoji() -> None:
    add("emoji-single", "😀")
    add("emoji-several", "😀😃😄😁🥲🤣 ❤️ 👍")
    add("emoji-in-text", "I love pizza 🍕 and coffee ☕!")
    add("emoji-zwj-family", "👨\u200d👩\u200d👧\u200d👦")
    add("emoji-zwj-mixed", "👩\u200d💻 🧑\u200d🚀 🏳️\u200d🌈 🐻\u200d❄️")
    add("emoji-skin-tones", "👋🏻👋🏼👋🏽👋🏾👋🏿")
    add("emoji-skin-tone-alone", "🏽")
    add("emoji-flags", "🇺🇸🇬🇧🇯🇵🇩🇪🇫🇷")
    add("emoji-regional-odd", "🇺🇸🇬")
    add("emoji-subdivision-flag", "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f")
    add("emoji-keycaps", "1\ufe0f\u20e3 #\ufe0f\u20e3 *\u20e3 0\u20e3")
    add("emoji-variation-selectors", "☺\ufe0e ☺\ufe0f ❤\ufe0f ✔\ufe0e a\ufe0f")
    add("emoji-variation-selector-alone", "\ufe0f")
    add("emoji-ideographic-vs", "葛\U000e0100 辻\U000e0101")
    add("emoji-kiss-couple", "👩\u200d❤\ufe0f\u200d💋\u200d👨")
    add("emoji-run", "🔥" * 50)
    add("emoji-with-words", "great🎉job👏👏well done🙂")


CODE = [
    ("code-go", 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfor i := 0; i < 10; i++ {\n\t\tfmt.Printf("%d\\n", i)\n\t}\n}\n'),
    ("code-python", 'def fib(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n\n\nprint([fib(i) for i in range(10)])\n'),
    ("code-json", '{"name": "qwen", "ids": [1, 2, 3], "nested": {"a": null, "b": true, "c": 1.5e-3}, "s": "\\u00e9\\n"}'),
    ("code-json-pretty", '{\n  "a": [\n    1,\n    2\n  ],\n  "b": {\n    "c": "d"\n  }\n}\n'),
    ("code-html", '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Test &amp; &lt;page&gt;</title></head>\n<body><p class="x">Hi&nbsp;there</p></body>\n</html>\n'),
    ("code-shell-tabs", '#!/bin/sh\nset -eu\nfor f in *.txt; do\n\tif [ -s "$f" ]; then\n\t\twc -l "$f" | awk \'{print $1}\'\n\tfi\ndone 2>&1 | sort -n\n'),
    ("code-c", '#include <stdio.h>\nint main(void) {\n    int *p = NULL; /* comment */\n    return p ? *p : -1; // done\n}\n'),
    ("code-rust", 'fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!("{:?}", v);\n}\n'),
    ("code-sql", "SELECT id, name FROM users WHERE age >= 18 AND name LIKE 'A%' ORDER BY id DESC LIMIT 10;"),
    ("code-regex", r"^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*)@\w+\.\w{2,}$"),
    ("code-yaml", "key: value\nlist:\n  - one\n  - two\nnested:\n  deep:\n    x: 1\n"),
    ("code-markdown", "# Title\n\n- item **bold** _it_\n- `code`\n\n```go\nx := 1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"),
    ("code-indent-4-spaces", "if x:\n    if y:\n        if z:\n            pass\n"),
    ("code-indent-mixed-tabs-spaces", "\tfoo\n    \tbar\n\t    baz\n \t \t qux\n"),
    ("code-latex", r"\begin{equation} E = mc^2 \quad \frac{a}{b} \sum_{i=0}^{n} x_i \end{equation}"),
    ("code-operators", "a+=b; c-=d; e*=f; g/=h; i%=j; k<<=2; l>>=3; m&&n||o; p!==q; r===s; t=>u; v::w; x->y; z??0"),
]


def code() -> None:
    for name, text in CODE:
        add(name, text)


def numbers() -> None:
    add("num-small", "0 1 2 3 42 100 999")
    add("num-year", "In 2024 and 1999 and 0001.")
    add("num-long-run", "12345678901234567890123456789012345678901234567890")
    add("num-decimals", "3.14159 -2.5e10 0.000001 1,234,567.89 1.2.3.4")
    add("num-phone", "+1 (555) 123-4567")
    add("num-hex", "0xDEADBEEF 0b1010 0o755 #ff00aa")
    add("num-arabic-indic", "٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹")
    add("num-devanagari", "०१२३४५६७८९")
    add("num-fullwidth", "０１２３４５６７８９ ＡＢＣ")
    add("num-superscripts", "x² y³ z¹ 10⁻⁹ H₂O")
    add("num-roman", "Ⅻ ⅻ Ⅳ ⅷ Ⅿ")
    add("num-fractions", "½ ⅓ ¼ ¾ ⅞ ↉")
    add("num-circled", "① ② ⑳ ㉑ ⓿")
    add("num-other-scripts", "๐๑๒ ০১২ ௦௧௨ ၀၁၂ ፩፪፫ 𝟎𝟏𝟐 〇")
    add("num-digits-letters", "abc123def456 A1B2C3 1st 2nd 3rd 4th")
    add("num-5k-digits", "".join(str(i % 10) for i in range(5000)))
    add("num-digits-with-spaces", " 1  2   3    4")
    add("num-money", "$100 €20,50 ¥1000 £3.99 ₹500")
    add("num-percent-time", "50% at 12:30:45 on 2026-12-03T10:58:09Z")


def whitespace() -> None:
    add("ws-runs-before-words", "a  b   c    d     e")
    add("ws-runs-at-end", "word     ")
    add("ws-runs-at-start", "     word")
    add("ws-only-spaces", "     ")
    add("ws-tab", "a\tb\t\tc")
    add("ws-tabs-only", "\t\t\t")
    add("ws-crlf", "line one\r\nline two\r\n")
    add("ws-cr-alone", "line one\rline two\r")
    add("ws-lf-runs", "a\n\n\nb")
    add("ws-lf-only", "\n")
    add("ws-lf-many", "\n" * 10)
    add("ws-space-before-newline", "a   \n   b")
    add("ws-newline-spaces-word", "\n  \n  x")
    add("ws-mixed-runs", " \t \r\n \n\t x \t ")
    add("ws-nbsp", "a\u00a0b \u00a0 c\u00a0\u00a0")
    for cp in range(0x2000, 0x200B):
        add(f"ws-u{cp:04x}", f"a\u0020{chr(cp)}b{chr(cp)}{chr(cp)} c{chr(cp)}")
    add("ws-ideographic-space", "日本\u3000語\u3000\u3000x")
    add("ws-nel", "a\u0085b\u0085\u0085c")
    add("ws-line-separator", "a\u2028b")
    add("ws-paragraph-separator", "a\u2029b")
    add("ws-feff", "\ufeffstart a\ufeffb")
    add("ws-mongolian-vowel-sep", "a\u180eb \u180e c")
    add("ws-zero-width-space", "a\u200bb \u200b c")
    add("ws-zwnj-zwj", "a\u200cb\u200dc")
    add("ws-vt-ff", "a\vb\fc \v\f d")
    add("ws-info-separators", "a\x1cb\x1dc\x1ed\x1ff")
    add("ws-narrow-nbsp-figure", "10\u202f000 1\u2007000 a\u205fb")
    add("ws-ogham", "a\u1680b")
    add("ws-20k-spaces", " " * 20000)
    add("ws-20k-spaces-then-word", " " * 20000 + "word")
    add("ws-space-newline-alternating", " \n" * 50)
    add("ws-trailing-newline-after-spaces", "x  \n")
    add("ws-spaces-before-punct", "a   !  ?")


def punctuation() -> None:
    add("punct-run", "!!!???...,,,;;;:::")
    add("punct-run-newlines", "!!!\n\n???\r\n...\n")
    add("punct-space-run-newline", "a ---\n\nb")
    add("punct-brackets", "([{<>}])")
    add("punct-ascii-all", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    add("punct-unicode", "¡¿«»‹›„“”‚‘’†‡•‰′″‴※‼⁇⁈⁉")
    add("punct-cjk", "、。〃〈〉《》「」『』【】〔〕〖〗〘〙〚〛〜〝〞")
    add("punct-ellipsis-dashes", "wait… what—really–yes")
    add("punct-symbols", "©®™°±×÷§¶µ¤¦¨¬¯´¸")
    add("punct-arrows-box", "←↑→↓↔ ┌─┐│└┘ ░▒▓█")
    add("punct-after-space-then-letters", " ...abc")
    add("punct-newline-then-punct", "\n\n!")
    add("punct-long-run", "=" * 200)
    add("punct-underscores", "__init__ ___ _a_ snake__case")
    add("punct-letter-prefix", "#hashtag @mention $var %x ^y &z *w")


SPECIAL = [
    ("special-chat-turn", "<|im_start|>user\nhi<|im_end|>"),
    ("special-chat-full", "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"),
    ("special-adjacent", "<|im_start|><|im_end|><|endoftext|>"),
    ("special-inside-word", "hel<|im_end|>lo"),
    ("special-spaces-around", "  <|im_start|>  x  <|im_end|>  "),
    ("special-partial-open", "<|im_start|"),
    ("special-partial-close", "|im_start|>"),
    ("special-misspelt", "<|im_strat|> <|IM_START|> < |im_start| > <||>"),
    ("special-nested", "<|im_<|im_end|>start|>"),
    ("special-think", "<think>\nreasoning here\n</think>\n\nanswer"),
    ("special-think-empty", "<think>\n\n</think>\n\n"),
    ("special-think-partial", "<think </think <thinking>"),
    ("special-image-pad-repeated", "<|vision_start|>" + "<|image_pad|>" * 16 + "<|vision_end|>"),
    ("special-video-pad", "<|vision_start|><|video_pad|><|video_pad|><|vision_end|>"),
    ("special-tool-call", '<tool_call>\n{"name": "f", "arguments": {"x": 1}}\n</tool_call>'),
    ("special-tool-response", "<tool_response>\nok\n</tool_response>"),
    ("special-fim", "<|fim_prefix|>def f():<|fim_suffix|>\n    return 1<|fim_middle|>"),
    ("special-repo-file", "<|repo_name|>qwen<|file_sep|>main.go\npackage main"),
    ("special-box-quad", "<|object_ref_start|>cat<|object_ref_end|><|box_start|>(1,2),(3,4)<|box_end|><|quad_start|><|quad_end|>"),
    ("special-audio-tts", "<|audio_start|><|audio_pad|><|audio_end|><tts_pad><tts_text_bos><tts_text_eod><tts_text_bos_single>"),
    ("special-endoftext-text", "text<|endoftext|>more text"),
    ("special-with-unicode", "<|im_start|>用户\n你好 😀<|im_end|>"),
    ("special-lookalike-fullwidth", "＜｜im_start｜＞"),
    ("special-decomposed-nearby", "e\u0301<|im_end|>\u0301"),
]


def special() -> None:
    for name, text in SPECIAL:
        add(name, text)


def unusual() -> None:
    add("uni-replacement-char", "a\ufffdb\ufffd\ufffd")
    add("uni-nonchar-fdd0", "x\ufdd0y\ufdefz")
    add("uni-nonchar-fffe-ffff", "\ufffe\uffff")
    add("uni-nonchar-10ffff", "end\U0010ffff")
    add("uni-nonchar-plane1", "\U0001fffe\U0001ffff")
    add("uni-private-use-bmp", "\ue000\ue123\uf8ff")
    add("uni-private-use-planes", "\U000f0000\U000ffffd\U00100000\U0010fffd")
    add("uni-unassigned", "\u0378\u0379\u08b5\U0001fb00\U0002fffe\U000e0000\U0003ffff")
    add("uni-combining-alone", "\u0301")
    add("uni-combining-at-start", "\u0301\u0302abc")
    add("uni-combining-after-space", "a \u0301b")
    add("uni-combining-after-digit", "1\u0301 2\u20dd")
    add("uni-combining-after-punct", "!\u0301 .\u0323")
    add("uni-combining-stack", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034da\u0300\u0301lgo")
    add("uni-nfc-e-acute", "e\u0301")
    add("uni-nfc-angstrom", "\u212b")
    add("uni-nfc-ohm-kelvin", "\u2126 \u212a")
    add("uni-nfc-long-s-dot", "\u1e9b\u0323")
    add("uni-nfc-reorder-marks", "a\u0323\u0301 a\u0301\u0323 q\u0307\u0323")
    add("uni-nfc-hangul-jamo-compose", "\u1100\u1161 \u1100\u1161\u11a8 \uac00\u11a8")
    add("uni-nfc-hangul-jamo-lvt-run", "\u1112\u1161\u11ab\u1100\u1173\u11af\u1105\u1169")
    add("uni-nfc-cjk-compat", "\uf900\uf901\ufa0e\ufa10\ufa6d\U0002f800\U0002fa1d")
    add("uni-nfc-singleton-semicolon", "\u037e \u0387 \u0340\u0341 \u0343")
    add("uni-nfc-exclusions", "\u0958\u0959 \u2adc \ufb1d \U0001d15e")
    add("uni-nfc-devanagari-nukta", "\u0915\u093c \u0929 \u0928\u093c")
    add("uni-nfc-already", "caf\u00e9 na\u00efve")
    add("uni-nfc-decomposed-words", "cafe\u0301 nai\u0308ve A\u030angstro\u0308m")
    add("uni-nfc-greek-tonos", "\u03b9\u0308\u0301 \u1f71 \u03ac")
    add("uni-nfc-compat-not-changed", "\ufb01 \u2460 \u00bd \uff21 \u2122")
    add("uni-nul", "a\x00b\x00\x00")
    add("uni-c0-controls", "".join(chr(c) for c in range(0x00, 0x20)))
    add("uni-del-c1-controls", "".join(chr(c) for c in range(0x7f, 0xa0)))
    add("uni-controls-in-words", "ab\x01cd\x7fef\x9fgh\x1bxy")
    add("uni-ansi-escape", "\x1b[31mred\x1b[0m")
    add("uni-bidi-controls", "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    add("uni-soft-hyphen", "hy\u00adphen\u00ad")
    add("uni-word-joiner", "a\u2060b\u2061c")
    add("uni-tags", "\U000e0001\U000e0041\U000e007f")
    add("uni-max-bmp", "\uffef\ufff0\ufff9\ufffa\ufffb\ufffc")
    add("uni-4-byte-utf8", "\U00010000\U0001f600\U0010fffd")
    add("uni-latin1-supplement", "".join(chr(c) for c in range(0xa0, 0x100)))
    add("uni-combining-block", "".join(chr(c) for c in range(0x300, 0x370)))
    add("uni-spacing-modifiers", "\u02b0\u02b1\u02c6\u02c7\u02d0\u02e0\u02ee")
    add("uni-enclosing-marks", "a\u20dd b\u20de c\u20e0 \u0488\u0489")
    add("uni-spacing-combining-mc", "\u0903 \u093e\u093f \u0bbe \u0f3e")
    add("uni-letter-number-nl", "\u16ee\u16ef\u2160\u3007\U00010140")
    add("uni-other-number-no", "\u00b2\u00b9\u00bc\u0f2a\u2070\u2460\u3251")
    add("uni-mark-between-letters", "a\u0300b\u0301c")
    add("uni-mark-after-cjk", "中\u0301文")
    add("uni-mark-after-emoji", "😀\u0301")


def long_cases() -> None:
    rng = random.Random(14001)
    letters = "abcdefghijklmnopqrstuvwxyz"
    add("long-10k-letters", "".join(rng.choice(letters) for _ in range(10000)))
    add("long-100k-letters", "".join(rng.choice(letters) for _ in range(100000)))
    add("long-10k-same-letter", "a" * 10000)
    add("long-20k-cjk", "".join(chr(rng.randrange(0x4e00, 0x9fa6)) for _ in range(20000)))
    add("long-5k-words", " ".join("".join(rng.choice(letters) for _ in range(rng.randint(1, 12)))
                                    for _ in range(5000)))
    add("long-10k-punct", "".join(rng.choice("!?.,;:-=+*/") for _ in range(10000)))
    add("long-3k-emoji", "".join(rng.choice("😀👍🏽❤️🇯🇵👨\u200d👩\u200d👧🔥") for _ in range(3000)))
    add("long-hangul-syllables", "".join(chr(rng.randrange(0xac00, 0xd7a4)) for _ in range(10000)))
    add("long-arabic-word", "".join(rng.choice("ابتثجحخدذرزسشصضطظعغفقكلمنهوي") for _ in range(10000)))
    add("long-10k-newlines", "\n" * 10000)
    add("long-mixed-ws", "".join(rng.choice(" \t\n\r\u00a0\u3000") for _ in range(10000)))


# Buckets for the random strings: (weight, list of (lo, hi) inclusive code point ranges).
BUCKETS = [
    (20, [(0x20, 0x7e)]),                                  # printable ASCII
    (6, [(0x41, 0x5a), (0x61, 0x7a)]),                     # ASCII letters
    (4, [(0x00, 0x1f), (0x7f, 0x9f)]),                     # C0 / C1 controls
    (6, [(0x09, 0x0d), (0x20, 0x20), (0x85, 0x85), (0xa0, 0xa0), (0x1680, 0x1680),
         (0x2000, 0x200d), (0x2028, 0x2029), (0x202f, 0x202f), (0x205f, 0x205f),
         (0x3000, 0x3000), (0xfeff, 0xfeff), (0x180e, 0x180e)]),  # white space and friends
    (6, [(0xa0, 0x24f)]),                                  # Latin-1 and Latin Extended
    (8, [(0x300, 0x36f), (0x1ab0, 0x1aff), (0x1dc0, 0x1dff), (0x20d0, 0x20ff), (0xfe20, 0xfe2f)]),  # combining
    (4, [(0x370, 0x52f)]),                                 # Greek, Cyrillic
    (4, [(0x590, 0x6ff)]),                                 # Hebrew, Arabic
    (4, [(0x900, 0xdff)]),                                 # Indic
    (3, [(0xe00, 0xfff)]),                                 # Thai, Lao, Tibetan
    (3, [(0x1100, 0x11ff), (0xa960, 0xa97f), (0xd7b0, 0xd7ff)]),  # conjoining jamo
    (4, [(0xac00, 0xd7a3)]),                               # Hangul syllables
    (6, [(0x3000, 0x30ff), (0x4e00, 0x9fff)]),             # CJK, kana
    (2, [(0xf900, 0xfaff), (0x2f800, 0x2fa1f)]),           # CJK compatibility ideographs
    (3, [(0x2000, 0x2bff)]),                               # punctuation, symbols, arrows
    (5, [(0x1f300, 0x1faff), (0x1f1e6, 0x1f1ff), (0xfe00, 0xfe0f), (0x1f3fb, 0x1f3ff),
         (0x200d, 0x200d), (0x20e3, 0x20e3)]),             # emoji and their modifiers
    (2, [(0xe000, 0xf8ff), (0xf0000, 0xffffd)]),           # private use
    (2, [(0xfdd0, 0xfdef), (0xfffe, 0xffff), (0x1fffe, 0x1ffff), (0x10fffe, 0x10ffff)]),  # nonchars
    (3, [(0x10000, 0x10ffff)]),                            # anywhere astral (often unassigned)
    (3, [(0x0, 0xd7ff), (0xe000, 0xffff)]),                # anywhere in the BMP
    (2, [(0xff00, 0xffef)]),                               # half/fullwidth forms
    (2, [(0x1d400, 0x1d7ff)]),                             # math alphanumerics
]


def random_char(rng: random.Random) -> str:
    total = sum(w for w, _ in BUCKETS)
    r = rng.randrange(total)
    for w, ranges in BUCKETS:
        if r < w:
            lo, hi = ranges[rng.randrange(len(ranges))]
            cp = rng.randint(lo, hi)
            assert not 0xD800 <= cp <= 0xDFFF
            return chr(cp)
        r -= w
    raise AssertionError


def random_cases() -> None:
    rng = random.Random(14002)
    for i in range(100):
        n = rng.choice([1, 2, 3, 5, 8, 13, 21, 40, 80, 200, 500])
        add(f"random-{i:03d}-len{n}", "".join(random_char(rng) for _ in range(n)))


def unreachable_tokens(fam: str) -> list[str]:
    """Vocabulary tokens of testdata/tokenizer/<fam>/tokenizer.json that its BPE merges cannot
    build (the model splits the token's own text into several tokens; a tiktoken-style encoder
    that looks the whole piece up first gives the single token). Needs the venv's tokenizers."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(REPO / "testdata" / "tokenizer" / fam / "tokenizer.json"))
    bs = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + len(cs) - 188)
    byte_of = {chr(c): b for b, c in zip(bs, cs)}
    out = []
    for piece, _ in sorted(tok.get_vocab(with_added_tokens=False).items(), key=lambda kv: kv[1]):
        if len(tok.model.tokenize(piece)) != 1:
            out.append(bytes(byte_of[ch] for ch in piece).decode("utf-8"))
    return out


def bpe_unreachable() -> None:
    """Appended last so the earlier cases keep their lines."""
    for fam in ["qwen3vl", "qwen3.5"]:
        toks = unreachable_tokens(fam)
        for i in range(0, len(toks), 40):
            add(f"bpe-unreachable-{fam}-{i // 40:02d}", "\n".join(toks[i:i + 40]))
    add("bpe-unreachable-sentence", "我去过加拿大和新加坡，众所周知，毛泽东思想。 документа بسبب terdapat")


def main() -> int:
    prose()
    contractions()
    languages()
    emoji()
    code()
    numbers()
    whitespace()
    punctuation()
    special()
    unusual()
    long_cases()
    random_cases()
    bpe_unreachable()
    names = [n for n, _ in CASES]
    assert len(set(names)) == len(names), "duplicate case names"
    lines = []
    for name, text in CASES:
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text), name
        b = len(text.encode("utf-8"))
        assert b <= MAX_CASE_BYTES, (name, b)
        lines.append(json.dumps({"name": name, "text": text}, ensure_ascii=False))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    OUT.write_bytes(data)
    print(f"{OUT.relative_to(REPO)}: {len(CASES)} cases, {len(data)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
