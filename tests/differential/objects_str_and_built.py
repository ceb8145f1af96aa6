# compiled: run, same_at, count_words, build_things
# str[i] of exact strs (negative indices, out of range, non-ASCII), str == str and !=,
# and the exact types BUILD_LIST / BUILD_TUPLE / BUILD_MAP / f-strings give what follows.


def same_at(a, b):
    n = 0
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            n += 1
        if a[-1 - i] != b[i]:
            n += 100
    return n


def count_words(words):
    freq = {}
    for w in words:
        key = w.lower()
        freq[key] = freq.get(key, 0) + 1
    return sorted(freq.items())


def build_things(n):
    out = []
    for i in range(n):
        t = (i, i * 2)
        l = [i, t]
        d = {"k": i}
        s = f"{i}-{t[1]}"
        out.append((t[0] + l[0] + d["k"], len(l), len(d), len(s), s[-1], l[1][1]))
    return out[-2:]


def attempt(f, *args):
    try:
        return f(*args)
    except (IndexError, TypeError) as e:
        return f"{type(e).__name__}: {e}"


def run():
    print(same_at("ACGTACGT" * 20, "AGGTACCT" * 20), same_at("é∂ƒ©", "é∂xy"), same_at("", "abc"))
    print(same_at(["a", "b"], ["a", "c"]), attempt(same_at, "abc", [1, 2]))
    s = "hello"
    print(attempt(lambda: [s[i] for i in (0, -1, 4, -5, 5)]), attempt(lambda: s[-6]))
    print(attempt(lambda: [s[i] for i in (True, 2**70)]))
    print(count_words(["Alpha", "beta", "ALPHA", "gamma", "Beta"] * 30))
    print(build_things(50))


run()
