"""Command line for one-off use beside the Snakemake route.

    glasscam check FILE... [--format F] [--system S --config C] [--type-map 1=A,2=B] [--dt DT]
        read every file as the pipeline would and print what it holds, or the refusal
    glasscam analyse --model MODEL.pt --system ka3d --out DIR FILE... [--config config.yaml]
        [--format F] [--type-map 1=A,2=B] [--dt DT] [--box-length L] [--device cpu]
        the analysis of an external dataset (glasscam.stages.external.analyse_external) into DIR:
        external.gsd (per-particle fields, for OVITO), correlations.csv, sanity_nulls.csv
        (Grad-CAM correlations against controls.seeds random-weight re-initialisations of the
        model; no permuted-label control: it needs the model's training dataset), summary.json,
        summary.png

Exit status 0 on success, 2 on a refused or unreadable input (the message names the file and
frame), 1 on any other error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from glasscam.config import merged_config
from glasscam.core.systems import system_from_config
from glasscam.errors import TrajectoryError
from glasscam.io.foreign import detect_format, read_npz, read_trajectory
from glasscam.plots.external import plot_external
from glasscam.stages.external import (
    analyse_external,
    load_configurations,
)


def _type_map(text: str | None) -> dict:
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        if "=" not in item:
            raise argparse.ArgumentTypeError(f"--type-map item {item!r}; expected LABEL=SPECIES, e.g. 1=A,2=B")
        label, species = item.split("=", 1)
        out[label.strip()] = species.strip()
    return out


def _load_config(path) -> dict:
    """``--config FILE`` merged over the workflow's config.yaml and validated, as
    ``snakemake --configfile FILE`` sees it (a partial file such as config/demo.yaml works)."""

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such config file (give --config, the project's config.yaml or your own)")
    return merged_config([path])[0]


def _system(config: dict, name: str | None):
    if name is None:
        return None, None
    if name not in config.get("systems", {}):
        raise ValueError(f"--system {name!r}: not among the config's systems {sorted(config.get('systems', {}))}")
    return system_from_config(name, config["systems"][name]), config["systems"][name]


def _entry(args) -> dict:
    entry = {"paths": [str(p) for p in args.files], "system": args.system, "format": args.format, "type_map": _type_map(args.type_map)}
    if args.dt is not None:
        entry["dt"] = args.dt
    if getattr(args, "box_length", None) is not None:
        entry["box_length"] = args.box_length
    if getattr(args, "unwrap", None):
        entry["unwrap"] = args.unwrap
    return entry


def _check(args) -> int:
    config = _load_config(args.config) if args.system else {}
    system, _ = _system(config, args.system)
    for path in args.files:
        if system is not None:
            # frames of one file are a trajectory unless declared unrelated (--unwrap independent): their
            # times must then be known and increase, as every dynamics stage needs them
            states, _, ends = load_configurations([path], {**_entry(args), "unwrap": args.unwrap or "independent"}, system,
                                                  require_time=args.unwrap != "independent")
            replicas = sum(e is not None for e in ends)
        elif detect_format(path, args.format) == "npz":
            if args.box_length is None:
                raise ValueError(f"{path}: the npz layout stores no box: give --box-length or --system")
            data = read_npz(path, args.box_length, type_map=_type_map(args.type_map))
            states, replicas = data.states, 0 if data.replica_ends is None else len(data.states)
        else:
            states = read_trajectory(path, args.format, type_map=_type_map(args.type_map), dt=args.dt,
                                     unwrap=args.unwrap or "auto").states
            replicas = 0
        s = states[0]
        counts = {t: int((s.typeid == i).sum()) for i, t in enumerate(s.types)}
        times = [st.time for st in states]
        print(
            f"{path}: {len(states)} frames, N = {len(s.positions)} {counts}, {s.dimensions}D box L = {s.box_length:g}, "
            f"t = {min(times):g} … {max(times):g}" + (f", replica end points for {replicas} configurations" if replicas else "")
        )
    return 0


def _analyse(args) -> int:
    config = _load_config(args.config)
    _, spec = _system(config, args.system)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = analyse_external(
        name=args.name,
        entry=_entry(args),
        system_spec=spec,
        model_path=args.model,
        out_gsd=out / "external.gsd",
        out_csv=out / "correlations.csv",
        out_json=out / "summary.json",
        indicator_cfg=config.get("indicators", {}),
        correlation_cfg=config.get("correlations", {}),
        gradcam_cfg=config.get("gradcam", {}),
        seed=int(config.get("seed", 0)),
        device=args.device,
        threads=args.threads,
        out_sanity_csv=out / "sanity_nulls.csv",
        control_seeds=int(config.get("controls", {}).get("seeds", 3)),
    )
    plot_external(out / "correlations.csv", out / "summary.json", out / "summary.png")
    p = [c.get("p_glass") for c in summary["configurations"] if "p_glass" in c]
    print(
        f"{summary['n_configurations']} configurations from {len(summary['files'])} files"
        + (f"; mean p(glass) = {sum(p) / len(p):.3f}" if p else "")
        + f"; results in {out}/ (external.gsd, correlations.csv, sanity_nulls.csv, summary.json, summary.png)"
        + (f"; sanity nulls: {summary['sanity_nulls']['learned']} of {summary['sanity_nulls']['rows']} Grad-CAM "
           "correlations beyond the random-weight control (no permuted-label control without the training dataset)"
           if summary["sanity_nulls"].get("ran") else "")
        + ("" if summary.get("has_propensity") else
           "; no propensity (these files hold no iso-configurational replica end points; give them in the npz "
           "layout) — correlations.csv has only its header")
    )
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="glasscam", description="glasscam: bring your own configurations")
    sub = top.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("files", nargs="+", help="configuration or trajectory files (GSD, LAMMPS dump, extended XYZ, npz)")
        p.add_argument("--format", default="auto", help="auto (from the suffix), gsd, lammps-dump, extxyz or npz")
        p.add_argument("--config", default="config.yaml",
                       help="config file merged over the workflow's config.yaml, as snakemake --configfile (default: config.yaml alone)")
        p.add_argument("--type-map", help="file type label → species, e.g. 1=A,2=B")
        p.add_argument("--dt", type=float, help="time step (τ): time = step × dt where the file has no time log")
        p.add_argument("--box-length", type=float, help="box length (σ) for the npz layout (default: (N/ρ)^(1/d) with the system's density)")
        p.add_argument("--unwrap", choices=["auto", "independent"], help="auto = a trajectory; independent = unrelated configurations")

    check = sub.add_parser("check", help="read files as the pipeline would; print what they hold or why they are refused")
    common(check)
    check.add_argument("--system", help="map types onto this system's species")
    check.set_defaults(run=_check)
    analyse = sub.add_parser("analyse", help="the whole analysis of some files with a trained model")
    common(analyse)
    analyse.add_argument("--model", required=True, help="classifier checkpoint (model.pt) of the matching system")
    analyse.add_argument("--system", required=True, help="the config's system whose Hamiltonian applies")
    analyse.add_argument("--out", required=True, help="output folder")
    analyse.add_argument("--name", default="cli", help="dataset name in the outputs")
    analyse.add_argument("--device", default="auto")
    analyse.add_argument("--threads", type=int, default=1)
    analyse.set_defaults(run=_analyse)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (TrajectoryError, FileNotFoundError) as err:
        print(f"glasscam {args.command}: refused: {err}", file=sys.stderr)
        return 2
    except (ValueError, RuntimeError) as err:
        print(f"glasscam {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
