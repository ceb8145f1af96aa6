# compiled: load, parse_all, run
# An uncaught exception raised `from` another, through nested compiled frames: both tracebacks.

class ConfigError(Exception):
    pass


def load(text):
    key, value = text.split("=")
    return key, int(value)


def parse_all(lines):
    out = {}
    for n, line in enumerate(lines):
        try:
            k, v = load(line)
        except ValueError as e:
            raise ConfigError(f"line {n}: {line!r}") from e
        out[k] = v
    return out


def run():
    print(parse_all(["a=1", "b=2"]))
    print(parse_all(["c=3", "d=four"]))


run()
