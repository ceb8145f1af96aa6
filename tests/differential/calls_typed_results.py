# compiled: running_sum, mixed_sum, float_sum, text_lengths, raising_sum
# Call results typed by the call site's profile: a running sum of what a function returns
# stays on words while the function returns small ints, and leaves (`type_changed`) when it
# returns something else — a float, a big int, a bool, a str, None, an int subclass — or
# raises; the continuation after it goes on with the object.


class MyInt(int):
    pass


def small(i):
    return i % 7


def shifting(i):
    if i < 3000:
        return i
    if i < 3100:
        return i * 0.5
    if i < 3200:
        return 1 << 70
    if i < 3220:
        return True
    if i < 3240:
        return MyInt(i)
    return -i


def running_sum(n):
    total = 0
    for i in range(n):
        total += small(i)
    return total


def mixed_sum(n):
    total = 0
    for i in range(n):
        total += shifting(i)
    return total


def half(i):
    return i / 3


def float_sum(n):
    acc = 0.0
    for i in range(n):
        acc += half(i) * 2.0
    return acc


def word(i):
    if i == 2500:
        return None
    return "ab" * (i % 5)


def text_lengths(n):
    total = 0
    for i in range(n):
        try:
            total += len(word(i))
        except TypeError as e:
            print("caught", e)
            total -= 1
    return total


def raising(i):
    if i == 2150:
        raise ValueError("at %d" % i)
    return i


def raising_sum(n):
    total = 0
    for i in range(n):
        try:
            total += raising(i)
        except ValueError as e:
            print("caught", e)
    return total


print(running_sum(1000))
print(mixed_sum(2500), mixed_sum(3050), mixed_sum(3150), mixed_sum(3300))
print(float_sum(1000))
print(text_lengths(3000))
print(raising_sum(3000))
big = 0
for k in range(3):
    big += running_sum(200)
print(big)
