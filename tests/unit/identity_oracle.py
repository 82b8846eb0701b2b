#!/usr/bin/env python3
"""identity_oracle.py DRIVER WORDS: the identity comparators against python3-jellyfish.

Feeds identity_oracle_driver lines "op<TAB>a<TAB>b" and computes the same with jellyfish:
soundex and nysiis of every word, typo'd variant and random string; Jaro, Jaro-Winkler
(default and long_tolerance), Levenshtein and Damerau-Levenshtein of each word against
the next 20 words, against its variants (deletion, insertion, substitution, adjacent
transposition) and of random pairs. Integers and codes must be equal, doubles within
1e-12. The C code cuts strings at 64 bytes, so jellyfish is given the same cut.

Exit 0 when all agree, 1 on a mismatch (the first 20 are printed), 77 (ctest SKIP) when
jellyfish is not installed. Debian's python3-jellyfish lives in /usr/bin/python3's
dist-packages, so a python3 without it (pyenv, venv) re-runs the script with that one.
"""
import os
import random
import subprocess
import sys
import warnings

CUT = 64  # IDC_MAX
NEXT = 20
TOL = 1e-12

try:
    import jellyfish
except ImportError:
    alt = "/usr/bin/python3"
    if (os.environ.get("IDENTITY_ORACLE_REEXEC") != "1" and os.path.exists(alt)
            and os.path.realpath(sys.executable) != os.path.realpath(alt)):
        os.environ["IDENTITY_ORACLE_REEXEC"] = "1"
        os.execv(alt, [alt] + sys.argv)
    print("SKIP: python3-jellyfish not installed")
    sys.exit(77)

# jellyfish 0.8's C extension warns about its own use of the 'u' argument format.
warnings.simplefilter("ignore", DeprecationWarning)

ALPHA = "abcdefghijklmnopqrstuvwxyz"


def read_words(path):
    words = []
    with open(path, encoding="ascii") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            words.append(line)
    return words


def variants(w, rnd):
    """Deterministic typos of w: one deletion, insertion, substitution, transposition."""
    out = []
    if len(w) >= 2:
        i = rnd.randrange(len(w))
        out.append(w[:i] + w[i + 1:])
        i = rnd.randrange(len(w) - 1)
        out.append(w[:i] + w[i + 1] + w[i] + w[i + 2:])
    if w:
        i = rnd.randrange(len(w))
        out.append(w[:i] + rnd.choice(ALPHA) + w[i + 1:])
    i = rnd.randrange(len(w) + 1)
    out.append(w[:i] + rnd.choice(ALPHA) + w[i:])
    return [v for v in out if v != w]


def random_words(rnd, n):
    """Short strings over small alphabets, where the phonetic rules collide most."""
    alphabets = ["abhw", "aeiouhwy", "schphkneva", "aeymdtrnsz", "bfpvcgjkqsxzdtlmnr", ALPHA]
    return ["".join(rnd.choice(a) for _ in range(rnd.randint(1, 10)))
            for a in alphabets for _ in range(n)]


def expected(op, a, b):
    a, b = a[:CUT], b[:CUT]
    if op == "soundex":
        return jellyfish.soundex(a)
    if op == "nysiis":
        return jellyfish.nysiis(a)
    if op == "jaro":
        return jellyfish.jaro_similarity(a, b)
    if op == "jaro_winkler":
        return jellyfish.jaro_winkler_similarity(a, b)
    if op == "jaro_winkler_long":
        return jellyfish.jaro_winkler_similarity(a, b, True)
    if op == "levenshtein":
        return jellyfish.levenshtein_distance(a, b)
    if op == "damerau":
        return jellyfish.damerau_levenshtein_distance(a, b)
    raise ValueError(op)


def agree(op, want, got):
    if isinstance(want, float):
        try:
            return abs(float(got) - want) <= TOL
        except ValueError:
            return False
    return str(want) == got


def main():
    if len(sys.argv) != 3:
        print("usage: identity_oracle.py DRIVER WORDS", file=sys.stderr)
        return 2
    driver, words_path = sys.argv[1], sys.argv[2]
    rnd = random.Random(20240521)
    words = read_words(words_path)
    typos = {w: variants(w, rnd) for w in words}
    randoms = random_words(rnd, 400)

    singles = words + [v for w in words for v in typos[w]] + randoms
    pairs = []
    for i, w in enumerate(words):
        for k in range(1, NEXT + 1):
            pairs.append((w, words[(i + k) % len(words)]))
        for v in typos[w]:
            pairs.append((w, v))
            pairs.append((v, w))
    for i in range(0, len(randoms) - 1, 2):
        pairs.append((randoms[i], randoms[i + 1]))

    # jellyfish 0.8 has a C NYSIIS (which this code follows) and a Python one that differs;
    # 1.x has only the Rust port of the Python one. Check NYSIIS against the C one only.
    phonetic = ["soundex"]
    if getattr(jellyfish, "library", None) == "C":
        phonetic.append("nysiis")
    else:
        print("note: jellyfish has no C NYSIIS (library=%s); NYSIIS not checked"
              % getattr(jellyfish, "library", "?"))
    cases = [(op, w, "") for w in singles for op in phonetic]
    for op in ("jaro", "jaro_winkler", "jaro_winkler_long", "levenshtein", "damerau"):
        cases += [(op, a, b) for a, b in pairs]

    text = "".join("%s\t%s\t%s\n" % c for c in cases)
    run = subprocess.run([driver], input=text, capture_output=True, text=True, timeout=240)
    if run.returncode != 0:
        print("driver failed (exit %d):\n%s" % (run.returncode, run.stderr))
        return 1
    got = run.stdout.split("\n")[:-1]
    if len(got) != len(cases):
        print("driver printed %d lines for %d cases" % (len(got), len(cases)))
        return 1

    bad = []
    exact = 0
    for (op, a, b), g in zip(cases, got):
        want = expected(op, a, b)
        if not agree(op, want, g):
            bad.append((op, a, b, want, g))
        elif isinstance(want, float) and float(g) == want:
            exact += 1
    for op, a, b, want, g in bad[:20]:
        print("MISMATCH %s(%r, %r): jellyfish %r, C %s" % (op, a, b, want, g))
    nfloat = sum(1 for c in cases if c[0].startswith("jaro"))
    print("identity_oracle: %d words, %d pairs; %d of %d doubles bit-identical"
          % (len(singles), len(pairs), exact, nfloat))
    print("%d passed, %d failed" % (len(cases) - len(bad), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
