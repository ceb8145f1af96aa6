# compiled: enter
# Code that keeps leaving compiled code for the interpreter is quickened as CPython's RESUME
# would have done by its eighth call: the instructions the interpreter runs after the exit
# (at DELETE_ATTR, which compiled code leaves for) specialize as without psyco. Before, they
# stayed generic, and a generic call of a builtin counts a recursion level (test_support).
import dis


class Box:
    pass


def enter(box, n):
    del box.item
    total = n + 1
    return len([total, n]) + next(iter((total,))) + total


results = []
for i in range(20):
    b = Box()
    b.item = 1
    results.append(enter(b, i))
print(results)
print([ins.opname for ins in dis.get_instructions(enter, adaptive=True)])
