# compiled: fmt_row, slices, rev_words, table
# f-strings with format specs/conversions/nesting, and slicing of str/list/tuple with all step signs.

def fmt_row(name, value, width):
    return f"|{name:<{width}}|{value:>10.3f}|{value:+.2e}|{int(value):08d}|{int(value):#x}|{name!r:^12}|{value:,.1f}|{value:%}|"


def slices(seq):
    return (seq[1:4], seq[::-1], seq[::2], seq[-3:], seq[:-3], seq[5:1:-2], seq[100:], seq[-100:2],
            seq[::-3], seq[3:3], seq[len(seq) - 1 :: -4])


def rev_words(s):
    return " ".join(w[::-1] for w in s.split())


def table(rows):
    lines = []
    for i, (k, v) in enumerate(rows):
        lines.append(f"{i:>2}. {k:.<10}{v!s:>6} {'even' if i % 2 == 0 else 'odd'} {v * 2 = }")
    return "\n".join(lines)


print(fmt_row("alpha", 3.14159, 8))
print(fmt_row("b", -1234.5, 3))
print(fmt_row("long name here", 0.0, 4))
print(slices("abcdefghij"))
print(slices(list(range(12))))
print(slices(tuple("xyz")))
print(rev_words("hello compiled world"))
print(table([("a", 1), ("bb", 22), ("ccc", 333)]))
print(f"{'nested {braces}'}", f"{{literal}}", f"{3.0:g}", f"{1e20:g}", f"{12345678:_}", f"{'x':*^7}")
