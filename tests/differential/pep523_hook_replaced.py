# compiled: do_test, func
# Another PEP 523 user replacing psyco's hook sees every call, compiled callers' too
# (test_capi Test_Pep523API: its recording hook missed calls that compiled code made
# directly, "200 != 100"); removing that hook leaves the interpreter alone, as without psyco.
import _testinternalcapi


class C:
    def __getitem__(self, other):
        return None


def func():
    C()[42]


def do_test(func, n):
    calls = []
    for i in range(2 * n):
        if i == n:
            _testinternalcapi.set_eval_frame_record(calls)
        func()
    _testinternalcapi.set_eval_frame_default()
    return calls


calls = do_test(func, 100)
print(len(calls), calls[:4])
print(len(do_test(func, 10)))
