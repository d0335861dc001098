"""Ray for whyrec's two Ray engines (batch explanations, index embedding): imported with a one-line error when it is
not installed, started here for a run or joined on a cluster, and Ray Data kept quiet (the commands draw their own
progress)."""

from __future__ import annotations

import logging
from typing import Any

from whyrec.errors import DependencyMissingError


def import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise DependencyMissingError(f"--engine ray needs Ray Data: pip install 'whyrec[ray]' ({exc})") from None
    return ray


def start_ray(address: str | None, cpus: int) -> bool:
    """Join the cluster at `address`, or start Ray on this machine with `cpus` CPUs; a Ray already started in this
    process (a test, a notebook) is used as it is. True when this call started it (the caller shuts it down)."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    if address is not None:
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
    else:
        ray.init(
            address="local",
            num_cpus=cpus,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    return True


def quiet_data() -> Any:
    """Ray Data's context without its progress bars and start-of-run notes; returned for further settings."""
    context = import_ray().data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # its notes on each run would cut into the bar
    return context
