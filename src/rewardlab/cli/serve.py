"""``rewardlab serve --spec SPEC.yaml [--host 127.0.0.1 --port 8000]``."""

from __future__ import annotations

import argparse
import os
from typing import Any

from rewardlab.cli._errors import print_error
from rewardlab.cli._plugins import add_plugin_argument

TOKEN_ENV = "REWARDLAB_SERVE_TOKEN"

# Flags that map one-to-one onto ServeSettings fields (flag name -> type).
_SETTING_FLAGS: dict[str, Any] = {
    "max_body_bytes": int, "max_request_samples": int, "max_batch_size": int,
    "batch_window_ms": float, "max_concurrent_batches": int, "max_queue": int,
    "request_timeout": float, "drain_timeout": float, "failure_reward": float,
    "default_reward": str,
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve", help="serve rewards over HTTP (native /v1/score and OpenRLHF /get_reward)",
        description="Serve the rewards of a spec over HTTP. Binds 127.0.0.1 unless told "
                    "otherwise; any other interface needs a bearer token, read from the "
                    f"environment variable named by --token-env (default {TOKEN_ENV}).")
    p.add_argument("--spec", required=True,
                   help="reward spec: a YAML/JSON file or inline YAML ('reward: ...' or "
                        "'rewards: {alias: spec}', optional 'serve:' settings)")
    p.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="TCP port (default 8000)")
    p.add_argument("--token-env", default=TOKEN_ENV, metavar="VAR",
                   help="environment variable holding the bearer token (never pass a token on "
                        "the command line: other users can read it)")
    add_plugin_argument(p)
    p.add_argument("--engine-workers", type=int, default=None,
                   help="worker processes for CPU rewards (default: CPU count)")
    for name, kind in _SETTING_FLAGS.items():
        p.add_argument("--" + name.replace("_", "-"), type=kind, default=None,
                       help=f"server setting {name} (see ServeSettings)")
    p.add_argument("--log-level", default="warning",
                   choices=["critical", "error", "warning", "info", "debug"])
    ray = p.add_argument_group("Ray Serve (deploy to a Ray cluster instead of serving here)")
    ray.add_argument("--ray", metavar="ADDRESS", default=None,
                     help="Ray cluster address (e.g. 127.0.0.1:6379 or 'auto')")
    ray.add_argument("--replicas", type=int, default=None, help="fixed number of replicas")
    ray.add_argument("--min-replicas", type=int, default=None, help="autoscaling lower bound")
    ray.add_argument("--max-replicas", type=int, default=None, help="autoscaling upper bound")
    ray.add_argument("--target-ongoing-requests", type=float, default=None,
                     help="autoscaling target of ongoing requests per replica")
    ray.add_argument("--replica-cpus", type=float, default=1.0,
                     help="CPUs reserved per replica (default 1)")
    p.set_defaults(func=run)


def _settings(args: argparse.Namespace, spec: Any) -> Any:
    from rewardlab.serve.settings import settings_from_spec

    overrides = {name: getattr(args, name) for name in _SETTING_FLAGS}
    token = os.environ.get(args.token_env) or None
    return settings_from_spec(spec).with_overrides(
        host=args.host, port=args.port, token=token, **overrides)


def run(args: argparse.Namespace) -> int:
    try:  # --plugin modules were imported by rewardlab.cli.main
        from rewardlab.serve.app import app_from_spec
        from rewardlab.serve.server import UnsafeBind, check_bind, run_server
        from rewardlab.spec import SpecError, load_spec
    except ImportError as exc:
        print_error("serve", f"{exc} (install the serve extra: pip install "
                             "'rewardlab[serve]')")
        return 2
    try:
        spec = load_spec(args.spec)
        settings = _settings(args, spec)
        check_bind(settings)
        if args.engine_workers:
            from rewardlab.engine import configure_engine

            configure_engine(workers=args.engine_workers)
        if args.ray:
            from rewardlab.serve.ray_serve import serve_on_ray

            return serve_on_ray(spec, settings, address=args.ray, replicas=args.replicas,
                                min_replicas=args.min_replicas, max_replicas=args.max_replicas,
                                target_ongoing_requests=args.target_ongoing_requests,
                                ray_actor_options={"num_cpus": args.replica_cpus},
                                plugins=args.plugin)
        app = app_from_spec(spec, settings)
    except (SpecError, UnsafeBind, ValueError) as exc:
        print_error("serve", exc)
        return 2
    run_server(app, settings, log_level=args.log_level)
    return 0
