# compiled: bump, counter_loop, reset, make_global, read_new
# `global` declarations: read-modify-write in loops, creating and deleting module globals.
counter = 0
history = []


def bump(k):
    global counter
    counter += k
    history.append(counter)
    return counter


def counter_loop(n):
    global counter
    for i in range(n):
        counter = counter * 2 + i
    return counter


def reset():
    global counter, history
    counter = 0
    history = []


def make_global(name):
    global created
    created = name * 2


def read_new():
    return created


print(bump(1), bump(5), bump(-10), counter, history)
print(counter_loop(70))
reset()
print(counter, history, bump(3), history)
try:
    read_new()
except NameError as e:
    print("NameError", e)
make_global("ab")
print(read_new())
del created
try:
    read_new()
except NameError as e:
    print("NameError", e)
