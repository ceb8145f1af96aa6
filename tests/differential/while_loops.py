# compiled: collatz, find, skip_odds, countdown
# while loops with break, continue and else.

def collatz(n):
    steps = 0
    while n != 1:
        if n % 2:
            n = 3 * n + 1
        else:
            n //= 2
        steps += 1
    return steps


def find(items, target):
    i = 0
    while i < len(items):
        if items[i] == target:
            print("found at", i)
            break
        i += 1
    else:
        print("not found", target)
        return -1
    return i


def skip_odds(n):
    out = []
    i = 0
    while True:
        i += 1
        if i > n:
            break
        if i % 2:
            continue
        out.append(i)
    return out


def countdown(n):
    out = []
    while n:
        out.append(n)
        n -= 1
        if n == -100:
            break
    else:
        out.append("done")
    return out


print([collatz(n) for n in (1, 6, 27, 97, 2**40 + 1)])
print(find([3, 1, 4, 1, 5], 4), find([3, 1, 4], 9), find([], 0))
print(skip_odds(15))
print(countdown(5), countdown(0))
