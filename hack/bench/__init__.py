"""`make bench`: kron against the CronJob controller on one local control plane.

The driver (`python -m bench`, PYTHONPATH=hack) brings up a dedicated local cluster
under `.bench/cluster`, then measures in one run: the API server's raw Job-create
ceiling through kron's own client, steady-state fire lag for kron and for CronJobs
(at two controller-manager QPS settings), a herd of ticks on one instant for both,
and kron's RSS/CPU. An independent watcher process (`bench.watcher`) timestamps
every Job's ADDED event; all lag numbers come from it, not from either system's
own metrics. Results go to `.bench/latest.json` and `.bench/latest.png`.

The benchmark writes numbers; it never asserts them.
"""
