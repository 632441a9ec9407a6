"""Which CPU each gunicorn worker of ``ossemu serve`` runs on (``emulator/cpu_pinning.py``)."""

from __future__ import annotations

from ossemu.emulator.cpu_pinning import CpuPlan


def _spawn(plan: CpuPlan, workers: int) -> list[int | None]:
    chosen: list[int | None] = []
    for _ in range(workers):
        chosen.append(plan.choose(chosen))
    return chosen


def test_two_workers_on_two_cpus_get_one_each():
    assert sorted(_spawn(CpuPlan([0, 1]), 2)) == [0, 1]


def test_fewer_workers_than_cpus_each_get_a_cpu_of_their_own():
    chosen = _spawn(CpuPlan([0, 1, 2, 3, 4, 5, 6, 7]), 4)
    assert len(set(chosen)) == 4


def test_more_workers_than_cpus_share_them_evenly():
    chosen = _spawn(CpuPlan([2, 5]), 4)
    assert sorted(chosen) == [2, 2, 5, 5]


def test_a_restarted_worker_takes_the_cpu_its_predecessor_left():
    plan = CpuPlan([0, 1, 2])
    live = _spawn(plan, 3)
    gone = live.pop(1)  # that worker died; the master forks a new one
    assert plan.choose(live) == gone


def test_ties_start_where_the_master_says_so_several_servers_spread_out():
    assert CpuPlan([0, 1, 2, 3], start=2).choose([]) == 2
    assert CpuPlan([0, 1, 2, 3], start=7).choose([]) == 3


def test_one_cpu_or_none_pins_nothing():
    assert CpuPlan([3]).choose([]) is None
    assert CpuPlan([]).choose([]) is None
