# compiled: wrap, reraise, convert, chain_info, suppress
# Re-raising (bare raise, raise e), `raise X from Y`, implicit context, `from None`, custom classes.

class AppError(Exception):
    def __init__(self, msg, code):
        super().__init__(msg)
        self.code = code


class ParseError(AppError):
    pass


def convert(s):
    try:
        return int(s)
    except ValueError as e:
        raise ParseError(f"bad {s!r}", 2) from e


def wrap(s):
    try:
        return convert(s)
    except ParseError:
        raise


def reraise(s):
    try:
        return 10 // int(s)
    except ZeroDivisionError as e:
        err = e
        raise err
    except ValueError:
        raise AppError("implicit", 3)


def suppress(s):
    try:
        return convert(s)
    except AppError as e:
        raise LookupError(s) from None


def chain_info(e):
    return (type(e).__name__, str(e), getattr(e, "code", None), type(e.__cause__).__name__,
            type(e.__context__).__name__, e.__suppress_context__)


for s in ("12", "x", "0", "3"):
    for f in (wrap, reraise, suppress):
        try:
            print(f.__name__, s, f(s))
        except Exception as e:
            print(f.__name__, s, chain_info(e), isinstance(e, AppError), isinstance(e, ParseError))
