from whimsy_project.ratelimit import TokenBucket


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_it_allows_a_burst_then_refuses_with_the_wait():
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=10, clock=clock)

    assert [bucket.take() for _ in range(10)] == [0.0] * 10
    assert bucket.take() == 0.5


def test_it_refills_at_the_sustained_rate_up_to_the_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    for _ in range(3):
        bucket.take()

    clock.now = 1.0
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.5]

    clock.now = 100.0
    assert [bucket.take() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]
