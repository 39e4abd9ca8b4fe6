"""Summarize the soft-sphere pilot (pilot.py JSONs) into pilot.csv: per system, T_G and thermostat
time τ_T, the fraction of A particles moved > 0.5 σ_AA (mean, SEM over trajectories) and their MSD in
the ≈ 30 τ after each t_w, and t_K (glasscam.core.tasks.kinetic_relaxation_time over all the group's
trajectories, the pipeline's guard). With -v: ⟨T_kin⟩(t) − T_G in σ_T, and the heating the aging
itself supplies, τ_T (2/d) (−dU/dt) (steady state of a Bussi thermostat fed by the potential energy
released, U per particle averaged over the trajectories).
usage: python summarize.py DIR [DIR ...] [-v] > pilot.csv [2> kinetic_temperature.csv]"""
import collections
import glob
import json
import sys

import numpy as np

from glasscam.core.tasks import kinetic_relaxation_time

verbose = "-v" in sys.argv
groups = collections.defaultdict(list)
for d in [a for a in sys.argv[1:] if a != "-v"]:
    for f in sorted(glob.glob(f"{d}/pilot_*.json")):
        with open(f) as fh:
            rows = json.load(fh)
        for row in rows:
            groups[(row["system"], row["N"], row["T_L"], row["T_G"], row["tau_T"], round(row["times"][-1]))].append(row)
print("system,N,T_L,T_G,tau_T,aging_duration,runs,trajectories,t_w,dt,frac_A_moved_gt_0.5,sem,msd_A,t_K")
if verbose:
    print("system,N,T_G,tau_T,trajectories,sigma_T,t,mean_T_kin,excess_in_sigma_T,aging_heat_in_sigma_T,U_per_particle", file=sys.stderr)
for (name, n, tl, tg, tau, dur), rows in sorted(groups.items()):
    d = 3 if name.endswith("3d") else 2
    times = np.array(rows[0]["times"])
    same = [r for r in rows if len(r["times"]) == len(times) and np.allclose(r["times"], times)]
    tk = kinetic_relaxation_time(times, np.array([r["Tkin"] for r in same]), tg, n, d)
    runs = len({r["run"] for r in rows})
    for tw in (0, 10, 30, 60):
        vals = [r[f"tw{tw}"] for r in rows if f"tw{tw}" in r]
        if not vals:
            continue
        frac = np.array([v[2] for v in vals]); msd = np.array([v[3] for v in vals])
        sem = frac.std(ddof=1) / np.sqrt(len(frac)) if len(frac) > 1 else float("nan")
        print(f"{name},{n},{tl:g},{tg:g},{tau:g},{dur:g},{runs},{len(rows)},{vals[0][0]:g},{vals[0][1]:.3f},"
              f"{frac.mean():.4f},{sem:.4f},{msd.mean():.4f},{tk['time']:.4g}")
    if verbose:  # ⟨T_kin⟩(t) as CSV on stderr
        U = np.array([r["U"] for r in same]).mean(axis=0)
        heat = tau * (2 / d) * -np.gradient(U, times)
        for t, e, m, h, u in zip(times, tk["excess_in_sigma"], tk["mean"], heat, U):
            print(f"{name},{n},{tg:g},{tau:g},{len(same)},{tk['sigma']:.5f},{t:.4g},{m:.5f},{e:+.3f},{h / tk['sigma']:+.3f},{u:.5f}",
                  file=sys.stderr)
