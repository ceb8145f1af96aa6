# compiled: work, add, tally
# Four threads run compiled functions that update a shared counter under a Lock; joined.
import threading

lock = threading.Lock()
state = {"count": 0, "total": 0}
results = [None] * 4


def add(k):
    with lock:
        state["count"] += 1
        state["total"] += k


def tally(n, seed):
    s = 0
    for i in range(n):
        s += (i * seed) % 7
    return s


def work(idx, n):
    local = 0
    for i in range(n):
        add(i % 5)
        local += tally(10, idx + i)
    results[idx] = local


threads = [threading.Thread(target=work, args=(i, 2000 + i)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(state, results, sum(results))
