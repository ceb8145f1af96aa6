# compiled: average, report, main
# An uncaught ZeroDivisionError from nested compiled calls: traceback and exit status 1.

def average(values):
    total = 0
    for v in values:
        total += v
    return total // len(values)


def report(groups):
    for name, values in groups:
        print(name, average(values))


def main():
    report([("a", [1, 2, 3]), ("b", [10, -4]), ("c", [2**70, 5])])
    report([("d", [7]), ("empty", [])])
    print("not reached")


main()
