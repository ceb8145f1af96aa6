# compiled: Account.deposit, Account.balance, Point.norm2, Point.__init__, run
# Methods, instance and class attributes, properties (with setter validation), __slots__.

class Account:
    rate = 0.5
    count = 0

    def __init__(self, owner, amount=0):
        self.owner = owner
        self._amount = amount
        Account.count += 1

    def deposit(self, x):
        if x <= 0:
            raise ValueError("positive only")
        self._amount += x
        return self._amount

    @property
    def balance(self):
        return self._amount

    @balance.setter
    def balance(self, v):
        if v < 0:
            raise ValueError("negative balance")
        self._amount = v

    def interest(self):
        return self._amount * self.rate


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm2(self):
        return self.x * self.x + self.y * self.y


def run():
    out = []
    a = Account("ann", 10)
    for i in range(1, 5):
        out.append(a.deposit(i))
    out.append(a.balance)
    a.balance = 3
    out.append((a.balance, a.interest()))
    try:
        a.balance = -1
    except ValueError as e:
        out.append(str(e))
    try:
        a.deposit(0)
    except ValueError as e:
        out.append(str(e))
    a.rate = 2
    out.append((a.interest(), Account.rate, Account.count))
    p = Point(3, 4)
    out.append(p.norm2())
    p.x = 2**40
    out.append(p.norm2())
    try:
        p.z = 1
    except AttributeError as e:
        out.append(type(e).__name__)
    try:
        Point.__new__(Point).norm2()
    except AttributeError as e:
        out.append(str(e))
    b = Account("bob")
    out.append((b.balance, Account.count, hasattr(p, "__dict__")))
    return out


for item in run():
    print(item)
